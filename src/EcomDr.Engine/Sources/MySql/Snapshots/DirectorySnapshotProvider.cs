using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Sources.MySql.Snapshots;

/// <summary>
/// The "directory" provider's configuration: the folder that keeps the snapshots, and an optional
/// second folder (another disk, a mounted offsite share) each snapshot is copied to.
/// </summary>
public sealed record DirectoryProviderOptions(string Path, string? OffsitePath = null);

/// <summary>
/// For tests and small installations: a snapshot is a copy of the data directory, file by file, in
/// &lt;path&gt;/&lt;name&gt;. It is not atomic, so the freeze makes the files still while it copies
/// (<see cref="ISnapshotProvider.Atomic"/>). A copy appears under its name only once whole; an
/// interrupted one is removed. Sockets and other special files are left out.
/// </summary>
public sealed class DirectorySnapshotProvider(DirectoryProviderOptions options) : ISnapshotProvider
{
    /// <summary>The region a copy in <see cref="DirectoryProviderOptions.OffsitePath"/> is recorded under.</summary>
    public const string OffsiteRegion = "offsite";

    public string Name => "directory";

    public bool Atomic => false;

    public Task<SnapshotTaken> TakeAsync(SnapshotRequest request, CancellationToken ct)
    {
        if (!Directory.Exists(request.DataDirectory))
        {
            throw new EcomDrException(ErrorIds.SnapshotProviderFailed, FailureKind.ObjectNotFound,
                $"The data directory {request.DataDirectory} is not reachable from here: the directory provider copies it, so it must run on the database host (or give the path it is mounted at).",
                request.DataDirectory);
        }

        return Task.Run(() =>
        {
            CopyWhole(request.DataDirectory, Folder(options.Path, request.Name), ct);
            return new SnapshotTaken(Name, [request.Name], null, false);
        }, ct);
    }

    public Task<SnapshotTaken?> CopyAsync(SnapshotTaken taken, CancellationToken ct)
    {
        if (options.OffsitePath is not { } offsite)
        {
            return Task.FromResult<SnapshotTaken?>(null);
        }

        return Task.Run<SnapshotTaken?>(() =>
        {
            foreach (var id in taken.Ids)
            {
                CopyWhole(Folder(options.Path, id), Folder(offsite, id), ct);
            }

            return new SnapshotTaken(Name, taken.Ids, OffsiteRegion, false);
        }, ct);
    }

    /// <summary>Removes the snapshot's folders; one already gone is not an error (a retried delete).</summary>
    public Task DeleteAsync(SnapshotTaken taken, CancellationToken ct)
    {
        var root = taken.Region == OffsiteRegion ? options.OffsitePath ?? options.Path : options.Path;
        foreach (var id in taken.Ids)
        {
            var folder = Folder(root, id);
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Copies a snapshot into an empty or new folder a server is then started on. Binlog index files
    /// that name the old data directory's files by absolute path are pointed at the new folder, or the
    /// server would open the source's binlog.
    /// </summary>
    public Task RestoreAsync(string id, string originalDataDirectory, string destination, CancellationToken ct)
    {
        var snapshot = Folder(options.Path, id);
        if (!Directory.Exists(snapshot))
        {
            throw new EcomDrException(ErrorIds.SnapshotProviderFailed, FailureKind.ObjectNotFound,
                $"Snapshot {id} is not in {options.Path} (deleted by retention, or another folder?). Nothing was changed.", id);
        }

        if (Directory.Exists(destination) && Directory.EnumerateFileSystemEntries(destination).Any())
        {
            throw new EcomDrException(ErrorIds.DestinationExists, FailureKind.ResourceExists,
                $"{destination} is not empty: a snapshot is restored into a new or empty folder only. Nothing was changed.", destination);
        }

        return Task.Run(() =>
        {
            var partial = destination.TrimEnd('/') + ".partial";
            Copy(snapshot, partial, ct);
            var from = Path.TrimEndingDirectorySeparator(originalDataDirectory) + "/";
            var to = Path.TrimEndingDirectorySeparator(Path.GetFullPath(destination)) + "/";
            foreach (var index in Directory.EnumerateFiles(partial, "*.index"))
            {
                var lines = File.ReadAllLines(index);
                if (lines.Any(l => l.StartsWith(from, StringComparison.Ordinal)))
                {
                    File.WriteAllLines(index, lines.Select(l => l.StartsWith(from, StringComparison.Ordinal) ? to + l[from.Length..] : l));
                }
            }

            if (Directory.Exists(destination))
            {
                Directory.Delete(destination);
            }

            Directory.Move(partial, destination);
        }, ct);
    }

    private static string Folder(string root, string id)
    {
        if (id.Length == 0 || id.Contains('/') || id.Contains('\\') || id is "." or "..")
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, $"'{id}' is not a snapshot name.", id);
        }

        return Path.Join(root, id);
    }

    /// <summary>Copies into &lt;to&gt;.partial and renames it when whole: an interrupted copy leaves nothing under the name.</summary>
    private static void CopyWhole(string from, string to, CancellationToken ct)
    {
        if (Directory.Exists(to))
        {
            throw new EcomDrException(ErrorIds.DestinationExists, FailureKind.ResourceExists, $"A snapshot named {Path.GetFileName(to)} already exists in {Path.GetDirectoryName(to)}.", to);
        }

        var partial = to + ".partial";
        try
        {
            Copy(from, partial, ct);
            Directory.Move(partial, to);
        }
        catch
        {
            if (Directory.Exists(partial))
            {
                Directory.Delete(partial, recursive: true);
            }

            throw;
        }
    }

    private static void Copy(string from, string to, CancellationToken ct)
    {
        if (Directory.Exists(to))
        {
            Directory.Delete(to, recursive: true);
        }

        Directory.CreateDirectory(to);
        foreach (var entry in new DirectoryInfo(from).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            ct.ThrowIfCancellationRequested();
            var target = Path.Join(to, Path.GetRelativePath(from, entry.FullName));
            switch (entry)
            {
                case DirectoryInfo { LinkTarget: { } link }:
                    throw new EcomDrException(ErrorIds.SnapshotProviderFailed, FailureKind.InvalidOperation,
                        $"{entry.FullName} links to {link}: the directory provider copies one folder and does not follow linked folders. Use a volume provider.", entry.FullName);
                case DirectoryInfo:
                    Directory.CreateDirectory(target);
                    break;
                case FileInfo file:
                    try
                    {
                        File.Copy(file.FullName, target); // a linked file's content, as the server sees it
                    }
                    catch (IOException) when (file.Length == 0 && IsSocket(file.FullName))
                    {
                        // a server's socket in its data directory is not data
                    }

                    break;
            }
        }
    }

    private static bool IsSocket(string path)
    {
        try
        {
            File.OpenHandle(path, FileMode.Open, FileAccess.Read).Dispose();
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }
}
