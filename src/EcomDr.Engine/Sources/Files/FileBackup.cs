using System.Formats.Tar;
using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Sources.Files;

/// <summary>
/// Backs up files and folders (infrastructure configs, docs/ADRs, migration scripts) as one tar
/// artifact (PAX format, which any tar reads), streamed through the artifact pipeline.
/// </summary>
public static class FileBackup
{
    public const string ArtifactName = "files.tar";

    public static async Task<BackupInfo> RunAsync(RepositoryContext context, string kind, IReadOnlyList<string> paths,
        IReadOnlyDictionary<string, string>? labels, IProgress<(string File, long Files)>? progress, CancellationToken cancellationToken)
    {
        var roots = paths.Select(Path.GetFullPath).ToList();
        var missing = roots.Where(p => !File.Exists(p) && !Directory.Exists(p)).ToList();
        if (roots.Count == 0 || missing.Count > 0)
        {
            throw new EcomDrException(ErrorIds.PathNotFound, FailureKind.ObjectNotFound,
                roots.Count == 0 ? "No path to back up." : $"Not found: {string.Join(", ", missing)}", missing.FirstOrDefault());
        }

        await using var writer = await BackupWriter.BeginAsync(context, kind, labels, cancellationToken).ConfigureAwait(false);
        writer.Source["paths"] = new JsonArray(roots.Select(r => (JsonNode)r).ToArray());
        writer.Source["host"] = Environment.MachineName;
        long files = 0, bytes = 0;
        await writer.AddArtifactAsync(ArtifactName, async (stream, ct) =>
        {
            await using var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true);
            foreach (var root in roots)
            {
                var baseDir = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar))!;
                var entries = Directory.Exists(root)
                    ? Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).Order(StringComparer.Ordinal)
                    : new[] { root }.AsEnumerable();
                foreach (var file in entries)
                {
                    ct.ThrowIfCancellationRequested();
                    var name = Path.GetRelativePath(baseDir, file).Replace(Path.DirectorySeparatorChar, '/');
                    await tar.WriteEntryAsync(file, name, ct).ConfigureAwait(false);
                    files++;
                    bytes += new FileInfo(file).Length;
                    progress?.Report((name, files));
                }
            }
        }, cancellationToken).ConfigureAwait(false);
        writer.Stats["files"] = files;
        writer.Stats["bytes"] = bytes;
        return await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }
}
