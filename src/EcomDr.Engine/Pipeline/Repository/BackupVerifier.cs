using System.Diagnostics;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// Checks a backup in a store: the manifest's signature, then every artifact's stored size and
/// SHA-256 by streaming it; deep mode also authenticates every frame, decompresses and checks the
/// plaintext SHA-256 (needs a key that can unwrap the data keys).
/// </summary>
public static class BackupVerifier
{
    public static async Task<IntegrityReport> VerifyAsync(RepositoryContext context, string kind, string id, bool deep,
        IProgress<(string Artifact, long Bytes)>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await using var lease = await ReadLease.TakeAsync(context, [(kind, id)], $"verification of {id}", cancellationToken, null, requireComplete: false)
            .ConfigureAwait(false);
        BackupManifest manifest;
        try
        {
            manifest = await BackupCatalog.ReadManifestAsync(context, RepositoryLayout.ManifestKey(context.Environment, kind, id), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (EcomDrException ex) when (ex.Kind is FailureKind.InvalidData or FailureKind.PermissionDenied or FailureKind.ObjectNotFound)
        {
            var failed = new IntegrityReport(id, kind, context.Store.Name, deep, IntegrityStatus.Failed, ex.ErrorId, ex.Message, Array.Empty<ArtifactCheck>(), clock.Elapsed);
            if (ex.Kind != FailureKind.ObjectNotFound)
            {
                await VerificationRecords.RecordAsync(context, failed, cancellationToken).ConfigureAwait(false);
            }

            return failed;
        }

        var checks = new List<ArtifactCheck>();
        var buffer = new byte[1 << 17];
        foreach (var artifact in manifest.Artifacts)
        {
            var key = RepositoryLayout.BackupPrefix(manifest.Environment, manifest.Kind, manifest.Id) + artifact.Path;
            long bytes = 0;
            try
            {
                await using var stream = deep
                    ? await ArtifactReader.OpenAsync(context.Store, key, artifact, context.KeyProviders, cancellationToken).ConfigureAwait(false)
                    : await ArtifactReader.OpenStoredAsync(context.Store, key, artifact, cancellationToken).ConfigureAwait(false);
                int n;
                while ((n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    bytes += n;
                    progress?.Report((artifact.Name, bytes));
                }

                checks.Add(new ArtifactCheck(artifact.Name, IntegrityStatus.Passed, bytes, null, null));
            }
            catch (EcomDrException ex) when (ex.ErrorId != ErrorIds.WrongKey)
            {
                checks.Add(new ArtifactCheck(artifact.Name, IntegrityStatus.Failed, bytes, ex.ErrorId, ex.Message));
            }
            catch (InvalidDataException ex)
            {
                // Authenticated frames decrypt to what was encrypted, so this means the writer was faulty.
                checks.Add(new ArtifactCheck(artifact.Name, IntegrityStatus.Failed, bytes, ErrorIds.ArtifactCorrupt, $"Artifact '{artifact.Name}': {ex.Message}"));
            }
        }

        var status = checks.All(c => c.Status == IntegrityStatus.Passed) ? IntegrityStatus.Passed : IntegrityStatus.Failed;
        var report = new IntegrityReport(id, kind, context.Store.Name, deep, status, null, null, checks, clock.Elapsed);
        await VerificationRecords.RecordAsync(context, report, cancellationToken).ConfigureAwait(false);
        return report;
    }
}
