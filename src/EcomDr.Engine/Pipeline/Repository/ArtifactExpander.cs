using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// Turns an artifact back into its plain file. The output is written to a temporary name and
/// renamed only after every frame authenticated and the plaintext hash matched, so a tampered
/// artifact never yields a file that looks complete.
/// </summary>
public static class ArtifactExpander
{
    public static async Task<FileInfo> ExpandAsync(RepositoryContext context, BackupInfo backup, ArtifactEntry artifact, string destinationPath,
        bool overwrite, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(destinationPath);
        if (File.Exists(full) && !overwrite)
        {
            throw new EcomDrException(ErrorIds.DestinationExists, FailureKind.ResourceExists, $"{full} exists; use -Force to replace it.", full);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var partial = Path.Join(Path.GetDirectoryName(full), $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.partial");
        try
        {
            await using (var input = await ArtifactReader.OpenAsync(context.Store, backup.Prefix + artifact.Path, artifact, context.KeyProviders, cancellationToken)
                             .ConfigureAwait(false))
            await using (var output = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 17, useAsync: true))
            {
                await input.CopyToAsync(output, 1 << 17, cancellationToken).ConfigureAwait(false);
            }

            File.Move(partial, full, overwrite);
            return new FileInfo(full);
        }
        catch (InvalidDataException ex)
        {
            throw new EcomDrException(ErrorIds.ArtifactCorrupt, FailureKind.InvalidData, $"Artifact '{artifact.Name}': {ex.Message}", artifact.Name, ex);
        }
        finally
        {
            File.Delete(partial);
        }
    }

    /// <summary>Finds artifacts by exact name or wildcard (*, ?).</summary>
    public static IReadOnlyList<ArtifactEntry> Match(BackupManifest manifest, string? pattern)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            return manifest.Artifacts;
        }

        var regex = new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace("\\*", ".*").Replace("\\?", ".") + "$");
        var found = manifest.Artifacts.Where(a => regex.IsMatch(a.Name)).ToList();
        if (found.Count == 0)
        {
            throw new EcomDrException(ErrorIds.ArtifactMissing, FailureKind.ObjectNotFound,
                $"Backup {manifest.Id} has no artifact matching '{pattern}' (it has: {string.Join(", ", manifest.Artifacts.Select(a => a.Name).Take(10))}).", pattern);
        }

        return found;
    }
}
