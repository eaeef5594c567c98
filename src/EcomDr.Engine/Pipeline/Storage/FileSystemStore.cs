using System.IO.Enumeration;
using System.Runtime.CompilerServices;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.IO;

namespace EcomDr.Engine.Pipeline.Storage;

/// <summary>
/// A repository in a folder (local disk, NFS, SMB; Windows or Linux paths). Uploads go to a hidden
/// ".partial" file beside the target and are renamed into place on commit, so a killed writer leaves
/// only files no reader mistakes for an object. Files are 0600 and folders 0700 (OwnerOnly).
/// </summary>
public sealed class FileSystemStore : IObjectStore
{
    internal const string PartialSuffix = ".partial";

    public FileSystemStore(string name, string root)
    {
        Name = name;
        Root = Path.GetFullPath(root);
    }

    public string Name { get; }

    public string Root { get; }

    public string Location => new Uri(Root.EndsWith(Path.DirectorySeparatorChar) ? Root : Root + Path.DirectorySeparatorChar).AbsoluteUri;

    public Task<IStoreUpload> BeginUploadAsync(string key, IReadOnlyDictionary<string, string>? tags, CancellationToken cancellationToken)
    {
        var target = PathOf(key);
        OwnerOnly.CreateDirectory(Path.GetDirectoryName(target)!, Root);
        var partial = Path.Join(Path.GetDirectoryName(target), $".{Path.GetFileName(target)}.{Guid.NewGuid():N}{PartialSuffix}");
        return Task.FromResult<IStoreUpload>(new Upload(target, partial));
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        try
        {
            return Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, useAsync: true));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new EcomDrException(ErrorIds.ArtifactMissing, FailureKind.ObjectNotFound, $"{Location}{key} does not exist.", key);
        }
    }

    public async IAsyncEnumerable<StoreObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        var start = prefix.Length == 0 ? Root : Path.Join(Root, prefix.TrimEnd('/').Replace('/', Path.DirectorySeparatorChar));
        if (!Directory.Exists(start))
        {
            yield break;
        }

        // The entries' own size and time (no second stat per file, no FileInfo): a catalog lists hundreds of thousands.
        var root = Root.Length;
        var files = new FileSystemEnumerable<StoreObject>(start,
            (ref FileSystemEntry e) => new StoreObject(KeyOf(e.Directory[root..], e.FileName), e.Length, e.LastWriteTimeUtc),
            new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false })
        {
            ShouldIncludePredicate = (ref FileSystemEntry e) => !e.IsDirectory,
        };
        foreach (var obj in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return obj;
        }
    }

    // "<dir relative to the root>/<name>" with '/' separators, built once.
    private static string KeyOf(ReadOnlySpan<char> directory, ReadOnlySpan<char> name)
    {
        directory = directory.TrimStart(Path.DirectorySeparatorChar);
        var key = directory.IsEmpty ? name.ToString() : string.Concat(directory, "/", name);
        return Path.DirectorySeparatorChar == '/' ? key : key.Replace(Path.DirectorySeparatorChar, '/');
    }

    public Task<StoreObject?> StatAsync(string key, CancellationToken cancellationToken)
    {
        var info = new FileInfo(PathOf(key));
        return Task.FromResult(info.Exists ? new StoreObject(key, info.Length, info.LastWriteTimeUtc) : null);
    }

    public async Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        await using var upload = await BeginUploadAsync(key, null, cancellationToken).ConfigureAwait(false);
        await upload.Stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
        await upload.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        OwnerOnly.CreateDirectory(Path.GetDirectoryName(path)!, Root);
        try
        {
            // CreateNew is atomic on local and network file systems: exactly one writer wins.
            await using var stream = new FileStream(path, OwnerOnly.NewFile(useAsync: false));
            OwnerOnly.Restrict(stream);
            await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        File.Delete(path);
        // Remove folders left empty, up to the root, so a deleted backup leaves no trace.
        for (var dir = Path.GetDirectoryName(path); dir is not null && dir.Length > Root.Length && Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any(); dir = Path.GetDirectoryName(dir))
        {
            Directory.Delete(dir);
        }

        return Task.CompletedTask;
    }

    private string PathOf(string key) => Path.Join(Root, StoreKeys.Validate(key).Replace('/', Path.DirectorySeparatorChar));

    private sealed class Upload : IStoreUpload
    {
        private readonly string _target;
        private readonly string _partial;
        private readonly FileStream _stream;
        private bool _committed;

        public Upload(string target, string partial)
        {
            _target = target;
            _partial = partial;
            _stream = new FileStream(partial, OwnerOnly.NewFile());
            OwnerOnly.Restrict(_stream);
        }

        public Stream Stream => _stream;

        public async Task CommitAsync(CancellationToken cancellationToken)
        {
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            _stream.Flush(flushToDisk: true);
            await _stream.DisposeAsync().ConfigureAwait(false);
            File.Move(_partial, _target, overwrite: true);
            _committed = true;
        }

        public async ValueTask DisposeAsync()
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
            if (!_committed)
            {
                File.Delete(_partial);
            }
        }
    }
}
