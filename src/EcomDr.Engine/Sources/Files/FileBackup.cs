using System.Formats.Tar;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Sources.Files;

/// <summary>What to back up: the kind, the roots, the set they come from, patterns, exemptions from the secret scan.</summary>
public sealed record FileBackupRequest(
    string Kind,
    IReadOnlyList<string> Paths,
    string? Set = null,
    IReadOnlyList<string>? Include = null,
    IReadOnlyList<string>? Exclude = null,
    IReadOnlyList<string>? AllowSecrets = null,
    bool Force = false,
    IReadOnlyDictionary<string, string>? Labels = null);

/// <summary>A file backup's outcome: the new backup, or (unchanged, without -Force) the previous one it equals.</summary>
public sealed record FileBackupResult(BackupInfo? Backup, BackupInfo? Unchanged, long Files, long Bytes, string TreeDigest, IReadOnlyList<FileEntry> Entries);

/// <summary>
/// Backs up files and folders (infrastructure configs, docs/ADRs, migration scripts) as one tar artifact
/// (PAX, which any tar reads; modes, times and links kept), streamed through the artifact pipeline.
/// First every file is read once: the secret scan refuses the backup before anything is written, and
/// the tree digest (every entry's name, type, mode, size, link and SHA-256) is compared with the set's
/// previous backup, which an unchanged tree does not repeat unless forced. The manifest records each
/// entry's SHA-256, which Restore-DrFile checks file by file.
/// </summary>
public static class FileBackup
{
    public const string ArtifactName = "files.tar";

    public static async Task<FileBackupResult> RunAsync(RepositoryContext context, FileBackupRequest request, IProgress<(string File, long Files)>? progress, CancellationToken ct)
    {
        var roots = request.Paths.Select(Path.GetFullPath).ToList();
        var entries = FileTree.Read(roots, PathGlob.All(request.Include), PathGlob.All(request.Exclude));
        var findings = await SecretScanner.ScanAsync(entries, PathGlob.All(request.AllowSecrets), ct).ConfigureAwait(false);
        if (findings.Count > 0)
        {
            throw new EcomDrException(ErrorIds.SecretFound, FailureKind.SecurityError,
                $"{findings.Count} file(s) hold secrets, which live in the vault only (Backup-VaultSecret backs them up): {string.Join("; ", findings.Take(20))}" +
                $"{(findings.Count > 20 ? $"; and {findings.Count - 20} more" : "")}. Remove them from the set (exclude), or give -AllowSecret <pattern> for a file that must be kept. Nothing was backed up.",
                findings[0].Name);
        }

        var digests = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in entries.Where(e => e.Type == FileEntryType.File))
        {
            digests[entry.Name] = await Sha256Async(entry.FullPath, ct).ConfigureAwait(false);
        }

        var tree = TreeDigest(entries, digests);
        var files = entries.Count(e => e.Type == FileEntryType.File);
        var bytes = entries.Sum(e => e.Size);
        if (!request.Force && await PreviousAsync(context, request, roots, ct).ConfigureAwait(false) is { } previous && (string?)previous.Manifest?.Stats["treeDigest"] == tree)
        {
            return new FileBackupResult(null, previous, files, bytes, tree, entries);
        }

        var git = roots.Select(Git.GitLabels.Read).ToList();
        await using var writer = await BackupWriter.BeginAsync(context, request.Kind, Labels(request, git.FirstOrDefault(g => g is not null)), ct).ConfigureAwait(false);
        writer.Source["paths"] = new JsonArray(roots.Select(r => (JsonNode)r).ToArray());
        writer.Source["host"] = Environment.MachineName;
        if (request.Set is { } set)
        {
            writer.Source["set"] = set;
        }

        writer.Source["git"] = new JsonArray(roots.Zip(git).Where(p => p.Second is not null).Select(p => (JsonNode)new JsonObject
        {
            ["path"] = p.First,
            ["workTree"] = p.Second!.WorkTree,
            ["commit"] = p.Second.Commit,
            ["branch"] = p.Second.Branch,
            ["describe"] = p.Second.Describe,
            ["dirty"] = p.Second.Dirty,
        }).ToArray());
        writer.Source["include"] = new JsonArray((request.Include ?? []).Select(p => (JsonNode)p).ToArray());
        writer.Source["exclude"] = new JsonArray((request.Exclude ?? []).Select(p => (JsonNode)p).ToArray());
        var written = new Dictionary<string, string>(StringComparer.Ordinal);
        long done = 0;
        await writer.AddArtifactAsync(ArtifactName, async (stream, token) =>
        {
            await using var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true);
            foreach (var entry in entries)
            {
                token.ThrowIfCancellationRequested();
                await WriteEntryAsync(tar, entry, written, token).ConfigureAwait(false);
                progress?.Report((entry.Name, ++done));
            }
        }, ct).ConfigureAwait(false);

        // What the tar holds is what the manifest records: a file that changed between the two reads is recorded as written.
        tree = TreeDigest(entries, written);
        writer.Stats["files"] = files;
        writer.Stats["bytes"] = bytes;
        writer.Stats["treeDigest"] = tree;
        writer.Stats["entries"] = new JsonArray(entries.Select(e => (JsonNode)Describe(e, written.GetValueOrDefault(e.Name))).ToArray());
        var backup = await writer.CompleteAsync(ct).ConfigureAwait(false);
        return new FileBackupResult(backup, null, files, bytes, tree, entries);
    }

    /// <summary>
    /// The set, then the git state of the first root in a work tree (read natively; a CI system's announced
    /// revision overrides its commit and tag), then the caller's labels, which win.
    /// </summary>
    private static Dictionary<string, string> Labels(FileBackupRequest request, Git.GitState? git)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (request.Set is { } set)
        {
            labels["fileSet"] = set;
        }

        var announced = BackupWriter.CiLabels();
        foreach (var (key, value) in git?.Labels() ?? new Dictionary<string, string>())
        {
            labels[key] = announced.TryGetValue(key, out var ci) ? ci : value;
        }

        foreach (var (key, value) in request.Labels ?? new Dictionary<string, string>())
        {
            labels[key] = value;
        }

        return labels;
    }

    /// <summary>The newest complete backup of the same set (or, without a set, of the same roots).</summary>
    private static async Task<BackupInfo?> PreviousAsync(RepositoryContext context, FileBackupRequest request, IReadOnlyList<string> roots, CancellationToken ct)
    {
        var same = (await BackupCatalog.ListAsync(context, request.Kind, ct).ConfigureAwait(false)).Where(b => b.Status == BackupStatus.Complete).Where(b =>
            request.Set is { } set ? (string?)b.Source["set"] == set
            : b.Source["set"] is null && b.Source["paths"] is JsonArray paths && paths.Select(p => (string?)p).SequenceEqual(roots));
        return same.OrderBy(b => b.Created).LastOrDefault();
    }

    private static async Task WriteEntryAsync(TarWriter tar, FileEntry entry, Dictionary<string, string> written, CancellationToken ct)
    {
        var modified = entry.Modified;
        switch (entry.Type)
        {
            case FileEntryType.Directory:
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, entry.Name + "/") { Mode = entry.Mode, ModificationTime = modified }, ct).ConfigureAwait(false);
                break;
            case FileEntryType.SymbolicLink:
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.SymbolicLink, entry.Name) { LinkName = entry.LinkTarget!, Mode = entry.Mode, ModificationTime = modified }, ct)
                    .ConfigureAwait(false);
                break;
            default:
                await using (var file = new FileStream(entry.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, useAsync: true))
                using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
                {
                    // The tar header states the length first: the bytes are read once, bounded, and hashed as they go in.
                    await using var hashing = new HashingReadStream(file, hash, file.Length);
                    await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, entry.Name) { Mode = entry.Mode, ModificationTime = modified, DataStream = hashing }, ct)
                        .ConfigureAwait(false);
                    written[entry.Name] = Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
                }

                break;
        }
    }

    public static string TreeDigest(IEnumerable<FileEntry> entries, IReadOnlyDictionary<string, string> digests)
    {
        var text = new StringBuilder();
        foreach (var e in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"{Type(e.Type)}\t{Mode(e.Mode)}\t{e.Size}\t{digests.GetValueOrDefault(e.Name, "")}\t{e.LinkTarget}\t{e.Name}\n");
        }

        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()))).ToLowerInvariant();
    }

    private static JsonObject Describe(FileEntry e, string? sha256)
    {
        var node = new JsonObject
        {
            ["name"] = e.Name,
            ["type"] = Type(e.Type),
            ["mode"] = Mode(e.Mode),
            ["modified"] = e.Modified.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        };
        if (e.Type == FileEntryType.File)
        {
            node["size"] = e.Size;
            node["sha256"] = sha256;
        }

        if (e.LinkTarget is { } link)
        {
            node["link"] = link;
        }

        return node;
    }

    public static string Type(FileEntryType type) => type switch { FileEntryType.Directory => "dir", FileEntryType.SymbolicLink => "link", _ => "file" };

    public static string Mode(UnixFileMode mode) => Convert.ToString((int)mode & 0xFFF, 8).PadLeft(4, '0');

    private static async Task<string> Sha256Async(string path, CancellationToken ct)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, useAsync: true);
        return Convert.ToHexString(await SHA256.HashDataAsync(file, ct).ConfigureAwait(false)).ToLowerInvariant();
    }
}
