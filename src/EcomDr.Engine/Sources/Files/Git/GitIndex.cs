using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace EcomDr.Engine.Sources.Files.Git;

/// <summary>One entry of git's index: path, mode, object name, size, modification time, merge stage.</summary>
internal sealed record GitIndexEntry(string Path, uint Mode, string Sha, uint Size, long MtimeSeconds, uint MtimeNanoseconds, int Stage, bool SkipWorktree);

/// <summary>
/// Reads .git/index (versions 2, 3 and 4, as gitformat-index documents them) and tells whether the work
/// tree differs from it, or the index from HEAD's tree: what "git describe --dirty" calls dirty.
/// Untracked files do not count, as for git.
/// </summary>
internal static class GitIndex
{
    public static IReadOnlyList<GitIndexEntry> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 12 || Encoding.ASCII.GetString(bytes, 0, 4) != "DIRC")
        {
            throw new InvalidDataException($"{path} is not a git index");
        }

        var version = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(4));
        if (version is < 2 or > 4)
        {
            throw new InvalidDataException($"{path}: git index version {version} is not read");
        }

        var count = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(8));
        var entries = new List<GitIndexEntry>((int)Math.Min(count, 1_000_000));
        var pos = 12;
        var previous = "";
        for (var i = 0; i < count; i++)
        {
            var start = pos;
            uint U32(int at) => BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(start + at));
            var mtime = U32(8);
            var mtimeNs = U32(12);
            var mode = U32(24);
            var size = U32(36);
            var sha = Convert.ToHexString(bytes, start + 40, 20).ToLowerInvariant();
            var flags = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(start + 60));
            pos = start + 62;
            var skipWorktree = false;
            if (version >= 3 && (flags & 0x4000) != 0)
            {
                var extended = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(pos));
                skipWorktree = (extended & 0x4000) != 0;
                pos += 2;
            }

            string name;
            if (version == 4)
            {
                // The name is the previous one, less N bytes, plus a NUL-terminated suffix.
                long strip = bytes[pos] & 0x7F;
                while ((bytes[pos++] & 0x80) != 0)
                {
                    strip = ((strip + 1) << 7) | (long)(bytes[pos] & 0x7F);
                }

                var end = Array.IndexOf(bytes, (byte)0, pos);
                var kept = Encoding.UTF8.GetBytes(previous);
                name = Encoding.UTF8.GetString(kept, 0, kept.Length - (int)strip) + Encoding.UTF8.GetString(bytes, pos, end - pos);
                pos = end + 1;
            }
            else
            {
                var end = Array.IndexOf(bytes, (byte)0, pos);
                name = Encoding.UTF8.GetString(bytes, pos, end - pos);
                // NUL-padded to a multiple of eight bytes from the entry's start (one NUL at least).
                pos = start + ((end - start + 8) & ~7);
            }

            previous = name;
            entries.Add(new GitIndexEntry(name, mode, sha, size, mtime, mtimeNs, (flags >> 12) & 3, skipWorktree));
        }

        return entries;
    }

    /// <summary>Whether a tracked file differs between HEAD, the index and the work tree.</summary>
    public static bool IsDirty(GitRepository repository, string? headCommit)
    {
        var indexPath = Path.Join(repository.GitDirectory, "index");
        var entries = File.Exists(indexPath) ? Read(indexPath) : [];
        if (entries.Any(e => e.Stage != 0))
        {
            return true; // an unresolved merge
        }

        var head = headCommit is not null && repository.TreeOf(headCommit) is { } tree ? Flatten(repository, tree, "") : new Dictionary<string, (uint Mode, string Sha)>();
        var tracked = entries.Where(e => (e.Mode & 0xF000) != 0xE000).ToList(); // gitlinks (submodules) are their own repositories
        if (tracked.Count != head.Count(h => (h.Value.Mode & 0xF000) != 0xE000) || tracked.Any(e => !head.TryGetValue(e.Path, out var h) || h.Sha != e.Sha || h.Mode != e.Mode))
        {
            return true; // staged changes
        }

        var indexTime = File.Exists(indexPath) ? File.GetLastWriteTimeUtc(indexPath) : DateTime.MinValue;
        foreach (var entry in tracked.Where(e => !e.SkipWorktree))
        {
            if (WorkTreeDiffers(repository.WorkTree, entry, indexTime))
            {
                return true;
            }
        }

        return false;
    }

    private static bool WorkTreeDiffers(string workTree, GitIndexEntry entry, DateTime indexTime)
    {
        var path = System.IO.Path.Join(workTree, entry.Path);
        var info = new FileInfo(path);
        var isLink = (entry.Mode & 0xF000) == 0xA000;
        if (info.LinkTarget is { } target)
        {
            return !isLink || BlobSha(Encoding.UTF8.GetBytes(target)) != entry.Sha;
        }

        if (isLink || !info.Exists)
        {
            return true;
        }

        if (!OperatingSystem.IsWindows() && ((entry.Mode & 0x40) != 0) != ((info.UnixFileMode & UnixFileMode.UserExecute) != 0))
        {
            return true;
        }

        if (info.Length != entry.Size)
        {
            return true;
        }

        // Same size and time as the index recorded, and written before the index: unchanged, as git's stat check says.
        var seconds = new DateTimeOffset(info.LastWriteTimeUtc).ToUnixTimeSeconds();
        var ticks = info.LastWriteTimeUtc.Ticks % TimeSpan.TicksPerSecond;
        if (seconds == entry.MtimeSeconds && ticks == entry.MtimeNanoseconds / 100 && info.LastWriteTimeUtc < indexTime.AddSeconds(-1))
        {
            return false;
        }

        using var file = info.OpenRead();
        return BlobSha(file, info.Length) != entry.Sha;
    }

    private static Dictionary<string, (uint Mode, string Sha)> Flatten(GitRepository repository, string tree, string prefix)
    {
        var result = new Dictionary<string, (uint Mode, string Sha)>(StringComparer.Ordinal);
        var content = repository.Objects.Read(tree)?.Content ?? throw new InvalidDataException($"git tree {tree} is missing");
        var i = 0;
        while (i < content.Length)
        {
            var space = Array.IndexOf(content, (byte)' ', i);
            var nul = Array.IndexOf(content, (byte)0, space);
            var mode = Convert.ToUInt32(Encoding.ASCII.GetString(content, i, space - i), 8);
            var name = prefix + Encoding.UTF8.GetString(content, space + 1, nul - space - 1);
            var sha = Convert.ToHexString(content, nul + 1, 20).ToLowerInvariant();
            i = nul + 21;
            if ((mode & 0xF000) == 0x4000)
            {
                foreach (var (path, value) in Flatten(repository, sha, name + "/"))
                {
                    result[path] = value;
                }
            }
            else
            {
                result[name] = (mode, sha);
            }
        }

        return result;
    }

    private static string BlobSha(byte[] content)
    {
        using var stream = new MemoryStream(content);
        return BlobSha(stream, content.Length);
    }

    private static string BlobSha(Stream content, long length)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha.AppendData(Encoding.ASCII.GetBytes($"blob {length}\0"));
        var buffer = new byte[1 << 16];
        int n;
        while ((n = content.Read(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, n);
        }

        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }
}
