using System.Formats.Tar;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Sources.Files;

/// <summary>Where a file backup is restored, which of its entries, and whether existing files may be replaced (PlanOnly: -WhatIf).</summary>
public sealed record FileRestoreOptions(string Destination, IReadOnlyList<string>? Include = null, IReadOnlyList<string>? Exclude = null, bool Force = false, bool PlanOnly = false);

/// <summary>One entry of a file restore: where it goes and what was (or would be) done.</summary>
public sealed record FileRestoreItem(string Name, string Path, string Type, string Action, long Size, string? Sha256);

/// <summary>
/// Restore-DrFile's engine. The entries come from the signed manifest (each file's SHA-256, mode and
/// time); include and exclude patterns choose among them. Existing files are refused before anything is
/// written unless forced. The whole artifact is read and checked first (every frame authenticated, its
/// SHA-256), so a damaged backup writes nothing; then each file is written beside its place, checked
/// against its own SHA-256 and moved into place, with its mode and time. Links stay links.
/// </summary>
public static class FileRestore
{
    public const string Restored = "Restored";
    public const string Overwritten = "Overwritten";
    public const string WouldRestore = "WouldRestore";
    public const string WouldOverwrite = "WouldOverwrite";

    private sealed record Recorded(string Name, string Type, string Mode, DateTimeOffset Modified, long Size, string? Sha256, string? Link);

    public static async Task<IReadOnlyList<FileRestoreItem>> RunAsync(RepositoryContext context, BackupInfo backup, FileRestoreOptions options, CancellationToken ct)
    {
        var recorded = EntriesOf(backup);
        var include = PathGlob.All(options.Include);
        var exclude = PathGlob.All(options.Exclude);
        var chosen = Choose(recorded, include, exclude);
        var destination = Path.GetFullPath(options.Destination);
        var plan = chosen.Select(e =>
        {
            var target = Target(destination, e.Name);
            var exists = e.Type != "dir" && (File.Exists(target) || Directory.Exists(target) || new FileInfo(target).LinkTarget is not null);
            return (Entry: e, Target: target, Exists: exists);
        }).ToList();
        var conflicts = plan.Where(p => p.Exists).ToList();
        if (options.PlanOnly)
        {
            return plan.Select(p => Item(p.Entry, p.Target, p.Exists ? WouldOverwrite : WouldRestore)).ToList();
        }

        if (conflicts.Count > 0 && !options.Force)
        {
            throw new EcomDrException(ErrorIds.DestinationExists, FailureKind.ResourceExists,
                $"{conflicts.Count} file(s) exist in {destination} already: {string.Join(", ", conflicts.Take(10).Select(c => c.Entry.Name))}{(conflicts.Count > 10 ? ", …" : "")}. " +
                "-Force replaces them; -WhatIf lists them. Nothing was written.", conflicts[0].Target);
        }

        var artifact = backup.Manifest!.Artifacts.SingleOrDefault(a => a.Name == FileBackup.ArtifactName)
            ?? throw new EcomDrException(ErrorIds.ManifestInvalid, FailureKind.InvalidData, $"Backup {backup.Id} holds no {FileBackup.ArtifactName}.", backup.Id);
        await using var lease = await ReadLease.TakeAsync(context, [backup], $"file restore of {backup.Id}", ct).ConfigureAwait(false);

        // Read it all once first: a damaged frame or a wrong hash is found before any file is written.
        await using (var check = await ArtifactReader.OpenAsync(context.Store, backup.Prefix + artifact.Path, artifact, context.KeyProviders, ct).ConfigureAwait(false))
        {
            await check.CopyToAsync(Stream.Null, ct).ConfigureAwait(false);
        }

        var wanted = plan.ToDictionary(p => p.Entry.Name, StringComparer.Ordinal);
        var items = new List<FileRestoreItem>();
        var folders = new List<(Recorded Entry, string Target)>();
        Directory.CreateDirectory(destination);
        await using (var input = await ArtifactReader.OpenAsync(context.Store, backup.Prefix + artifact.Path, artifact, context.KeyProviders, ct).ConfigureAwait(false))
        await using (var tar = new TarReader(input, leaveOpen: true))
        {
            while (await tar.GetNextEntryAsync(copyData: false, ct).ConfigureAwait(false) is { } entry)
            {
                var name = entry.Name.TrimEnd('/');
                if (!wanted.TryGetValue(name, out var p))
                {
                    continue;
                }

                switch (p.Entry.Type)
                {
                    case "dir":
                        Directory.CreateDirectory(p.Target);
                        folders.Add((p.Entry, p.Target));
                        break;
                    case "link":
                        Directory.CreateDirectory(Path.GetDirectoryName(p.Target)!);
                        Remove(p.Target);
                        File.CreateSymbolicLink(p.Target, p.Entry.Link ?? entry.LinkName);
                        break;
                    default:
                        await WriteFileAsync(entry, p.Entry, p.Target, ct).ConfigureAwait(false);
                        break;
                }

                items.Add(Item(p.Entry, p.Target, p.Exists ? Overwritten : Restored));
            }
        }

        var missing = plan.Where(p => !items.Any(i => i.Name == p.Entry.Name)).ToList();
        if (missing.Count > 0)
        {
            throw new EcomDrException(ErrorIds.ArtifactCorrupt, FailureKind.InvalidData,
                $"{FileBackup.ArtifactName} of {backup.Id} lacks {missing.Count} entr(ies) its manifest lists: {string.Join(", ", missing.Take(5).Select(m => m.Entry.Name))}.", backup.Id);
        }

        // Folders last, deepest first: writing into a folder changes its time.
        foreach (var (entry, target) in folders.OrderByDescending(f => f.Target.Length))
        {
            SetModeAndTime(target, entry);
        }

        return items;
    }

    /// <summary>The entries a backup's manifest records; a backup written before per-file digests is refused with what to do instead.</summary>
    private static IReadOnlyList<Recorded> EntriesOf(BackupInfo backup)
    {
        if (backup.Manifest?.Stats["entries"] is not JsonArray entries)
        {
            throw new EcomDrException(ErrorIds.ManifestInvalid, FailureKind.InvalidData,
                $"Backup {backup.Id} ({backup.Kind}) records no per-file digests: it is not a file backup, or one written before them. Expand-DrArtifact gives its files.tar back.",
                backup.Id);
        }

        return entries.OfType<JsonObject>().Select(e =>
        {
            var name = (string?)e["name"] ?? "";
            if (name.Length == 0 || name.StartsWith('/') || name.Split('/').Any(s => s is ".." or "." or ""))
            {
                throw new EcomDrException(ErrorIds.ManifestInvalid, FailureKind.InvalidData, $"Backup {backup.Id} names an entry '{name}' outside its folder.", backup.Id);
            }

            return new Recorded(name, (string?)e["type"] ?? "file", (string?)e["mode"] ?? "0644",
                DateTimeOffset.Parse((string?)e["modified"] ?? "1970-01-01T00:00:00Z", CultureInfo.InvariantCulture), (long?)e["size"] ?? 0, (string?)e["sha256"], (string?)e["link"]);
        }).ToList();
    }

    /// <summary>What the patterns choose (matched on the path inside each root, or on the whole name), with the folders that hold it.</summary>
    private static List<Recorded> Choose(IReadOnlyList<Recorded> all, IReadOnlyList<PathGlob> include, IReadOnlyList<PathGlob> exclude)
    {
        static string Inside(string name) => name.Contains('/') ? name[(name.IndexOf('/') + 1)..] : name;
        bool Matches(IReadOnlyList<PathGlob> globs, Recorded e) => PathGlob.Any(globs, e.Name) || (e.Name.Contains('/') && PathGlob.Any(globs, Inside(e.Name)));
        var chosen = all.Where(e => e.Type != "dir" && (include.Count == 0 || Matches(include, e)) && !Matches(exclude, e)).Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        return all.Where(e => chosen.Contains(e.Name) || (e.Type == "dir" && (include.Count == 0 ? !Matches(exclude, e) : chosen.Any(c => c.StartsWith(e.Name + "/", StringComparison.Ordinal)))))
            .ToList();
    }

    private static string Target(string destination, string name)
    {
        var target = Path.GetFullPath(Path.Join(destination, name));
        if (!target.StartsWith(Path.TrimEndingDirectorySeparator(destination) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new EcomDrException(ErrorIds.ManifestInvalid, FailureKind.InvalidData, $"'{name}' would be restored outside {destination}.", name);
        }

        return target;
    }

    private static async Task WriteFileAsync(TarEntry entry, Recorded recorded, string target, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var partial = target + ".ecomdr-partial";
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var output = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                if (entry.DataStream is { } data)
                {
                    var buffer = new byte[1 << 16];
                    int n;
                    while ((n = await data.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                    {
                        hash.AppendData(buffer, 0, n);
                        await output.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                    }
                }
            }

            var actual = Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
            if (!string.Equals(actual, recorded.Sha256, StringComparison.Ordinal))
            {
                throw new EcomDrException(ErrorIds.ArtifactHashMismatch, FailureKind.InvalidData,
                    $"{recorded.Name} restores with SHA-256 {actual}, its manifest records {recorded.Sha256}: it was not written.", recorded.Name);
            }

            Remove(target);
            File.Move(partial, target);
            SetModeAndTime(target, recorded);
        }
        finally
        {
            if (File.Exists(partial))
            {
                File.Delete(partial);
            }
        }
    }

    private static void Remove(string path)
    {
        if (new FileInfo(path).LinkTarget is not null || File.Exists(path))
        {
            File.Delete(path);
        }
        else if (Directory.Exists(path))
        {
            // -Force replaces files, never a folder and all it holds.
            throw new EcomDrException(ErrorIds.DestinationExists, FailureKind.ResourceExists, $"{path} is a folder, and the backup holds a file or link there: move the folder away first.", path);
        }
    }

    private static void SetModeAndTime(string path, Recorded entry)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32(entry.Mode, 8));
        }

        if (entry.Type == "dir")
        {
            Directory.SetLastWriteTimeUtc(path, entry.Modified.UtcDateTime);
        }
        else
        {
            File.SetLastWriteTimeUtc(path, entry.Modified.UtcDateTime);
        }
    }

    private static FileRestoreItem Item(Recorded e, string target, string action) => new(e.Name, target, e.Type, action, e.Size, e.Sha256);
}
