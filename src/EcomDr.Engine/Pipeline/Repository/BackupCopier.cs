using System.Security.Cryptography;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Storage;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>What a copy did, per artifact.</summary>
public sealed record CopyResult(string BackupId, string Kind, string Source, string Destination, int Copied, int Skipped, long BytesCopied, BackupInfo Backup);

/// <summary>
/// Copies a backup to another store as stored bytes (no re-encryption), verifying each artifact's
/// SHA-256 at the destination, and writes the manifest there last, verbatim (its signature still
/// holds). Re-running skips artifacts already verified at the destination, so a broken copy resumes.
/// </summary>
public static class BackupCopier
{
    public static async Task<CopyResult> CopyAsync(RepositoryContext source, IObjectStore destination, string kind, string id,
        IProgress<(string Artifact, long Bytes)>? progress, CancellationToken cancellationToken)
    {
        var backup = await BackupCatalog.GetAsync(source, id, cancellationToken).ConfigureAwait(false);
        await using var lease = await ReadLease.TakeAsync(source, [backup], $"copy of {id} to {destination.Name}", cancellationToken).ConfigureAwait(false);
        var manifest = backup.Manifest!;
        var prefix = backup.Prefix;
        int copied = 0, skipped = 0;
        long bytes = 0;
        foreach (var artifact in manifest.Artifacts)
        {
            var key = prefix + artifact.Path;
            if (await IsVerifiedAsync(destination, key, artifact, cancellationToken).ConfigureAwait(false))
            {
                skipped++;
                continue;
            }

            await using (var input = await ArtifactReader.OpenStoredAsync(source.Store, key, artifact, cancellationToken).ConfigureAwait(false))
            await using (var upload = await destination.BeginUploadAsync(key, manifest.Labels, cancellationToken).ConfigureAwait(false))
            {
                var buffer = new byte[1 << 17];
                int n;
                long done = 0;
                while ((n = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await upload.Stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    done += n;
                    progress?.Report((artifact.Name, done));
                }

                // The reader verified the source bytes at its end; only then is the upload committed.
                await upload.CommitAsync(cancellationToken).ConfigureAwait(false);
                bytes += done;
            }

            if (!await IsVerifiedAsync(destination, key, artifact, cancellationToken).ConfigureAwait(false))
            {
                throw new EcomDrException(ErrorIds.ArtifactHashMismatch, FailureKind.InvalidData,
                    $"Artifact '{artifact.Name}' reads back from {destination.Location} with a different SHA-256 than was written.", artifact.Name);
            }

            copied++;
        }

        // Published public signing keys travel too (a convenience for auditors; never trusted by presence).
        await foreach (var publicKey in source.Store.ListAsync(RepositoryLayout.KeysFolder + "/", cancellationToken).ConfigureAwait(false))
        {
            if (await destination.StatAsync(publicKey.Key, cancellationToken).ConfigureAwait(false) is null)
            {
                await CopySmallAsync(source.Store, destination, publicKey.Key, cancellationToken).ConfigureAwait(false);
            }
        }

        await CopySmallAsync(source.Store, destination, RepositoryLayout.ManifestKey(manifest.Environment, manifest.Kind, manifest.Id), cancellationToken)
            .ConfigureAwait(false);
        var copiedBackup = await BackupCatalog.GetAsync(source.WithStore(destination), id, cancellationToken).ConfigureAwait(false);
        return new CopyResult(id, kind, source.Store.Name, destination.Name, copied, skipped, bytes, copiedBackup);
    }

    private static async Task CopySmallAsync(IObjectStore from, IObjectStore to, string key, CancellationToken cancellationToken)
    {
        await to.PutAsync(key, await from.ReadAllAsync(key, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
    }

    private static async Task<bool> IsVerifiedAsync(IObjectStore store, string key, ArtifactEntry artifact, CancellationToken cancellationToken)
    {
        var stat = await store.StatAsync(key, cancellationToken).ConfigureAwait(false);
        if (stat is null || stat.Size != artifact.StoredSize)
        {
            return false;
        }

        await using var stream = await store.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
        var hash = Convert.ToHexString(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        return string.Equals(hash, artifact.StoredSha256, StringComparison.OrdinalIgnoreCase);
    }
}
