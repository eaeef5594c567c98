using System.Runtime.Versioning;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Sources.Files;

public enum FileEntryType
{
    File,
    Directory,
    SymbolicLink,
}

/// <summary>
/// One entry of a file backup. Name: its path in the archive, relative to the parent of the root it
/// came from ("infra/nginx/site.conf" for the root /srv/infra); Relative: the path inside its root,
/// which include and exclude patterns match. Mode is the Unix permission bits.
/// </summary>
public sealed record FileEntry(string Name, string Relative, string FullPath, FileEntryType Type, long Size, UnixFileMode Mode, DateTimeOffset Modified, string? LinkTarget);

/// <summary>
/// The entries a file set covers: each root (a file or a folder), folders walked without following
/// linked folders (a link is kept as a link), filtered by include and exclude patterns, in a stable
/// order (a folder before what it holds).
/// </summary>
public static class FileTree
{
    public static IReadOnlyList<FileEntry> Read(IReadOnlyList<string> roots, IReadOnlyList<PathGlob> include, IReadOnlyList<PathGlob> exclude)
    {
        var missing = roots.Where(r => !File.Exists(r) && !Directory.Exists(r) && !IsLink(r)).ToList();
        if (roots.Count == 0 || missing.Count > 0)
        {
            throw new EcomDrException(ErrorIds.PathNotFound, FailureKind.ObjectNotFound,
                roots.Count == 0 ? "No path to back up." : $"Not found: {string.Join(", ", missing)}. Nothing was backed up.", missing.FirstOrDefault());
        }

        var entries = new List<FileEntry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var root in roots.Select(r => Path.TrimEndingDirectorySeparator(Path.GetFullPath(r))))
        {
            var first = entries.Count;
            var top = Path.GetFileName(root);
            var info = Info(root);
            if (info is DirectoryInfo { LinkTarget: null } directory)
            {
                var found = new List<FileEntry>();
                Walk(directory, top, "", include, exclude, found);
                if (found.Count > 0 || include.Count == 0)
                {
                    entries.Add(Entry(directory, top, ""));
                    entries.AddRange(found);
                }
            }
            else
            {
                entries.Add(Entry(info, top, top));
            }

            foreach (var entry in entries.Skip(first).Where(e => !names.Add(e.Name)))
            {
                throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument,
                    $"Two paths of the set would share the name '{entry.Name}' in the backup; give roots with different names. Nothing was backed up.", entry.FullPath);
            }
        }

        return entries;
    }

    private static void Walk(DirectoryInfo directory, string name, string relative, IReadOnlyList<PathGlob> include, IReadOnlyList<PathGlob> exclude, List<FileEntry> into)
    {
        foreach (var child in directory.EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0, RecurseSubdirectories = false }).OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            var childRelative = relative.Length == 0 ? child.Name : $"{relative}/{child.Name}";
            var childName = $"{name}/{child.Name}";
            if (PathGlob.Any(exclude, childRelative))
            {
                continue;
            }

            if (child is DirectoryInfo { LinkTarget: null } folder)
            {
                var found = new List<FileEntry>();
                Walk(folder, childName, childRelative, include, exclude, found);
                if (found.Count > 0 || include.Count == 0 || PathGlob.Any(include, childRelative))
                {
                    into.Add(Entry(folder, childName, childRelative));
                    into.AddRange(found);
                }
            }
            else if (include.Count == 0 || PathGlob.Any(include, childRelative))
            {
                into.Add(Entry(child, childName, childRelative));
            }
        }
    }

    private static FileSystemInfo Info(string path) => Directory.Exists(path) && new DirectoryInfo(path).LinkTarget is null ? new DirectoryInfo(path) : new FileInfo(path);

    private static bool IsLink(string path) => new FileInfo(path).LinkTarget is not null;

    private static FileEntry Entry(FileSystemInfo info, string name, string relative)
    {
        var mode = OperatingSystem.IsWindows() ? default : UnixMode(info);
        return info switch
        {
            _ when info.LinkTarget is { } target => new FileEntry(name, relative, info.FullName, FileEntryType.SymbolicLink, 0, mode, info.LastWriteTimeUtc, target),
            DirectoryInfo => new FileEntry(name, relative, info.FullName, FileEntryType.Directory, 0, mode, info.LastWriteTimeUtc, null),
            FileInfo file => new FileEntry(name, relative, info.FullName, FileEntryType.File, file.Length, mode, info.LastWriteTimeUtc, null),
            _ => throw new InvalidOperationException(info.FullName),
        };
    }

    [UnsupportedOSPlatform("windows")]
    private static UnixFileMode UnixMode(FileSystemInfo info) => info.LinkTarget is null ? info.UnixFileMode : (UnixFileMode)0x1FF;
}
