using System.Security.Cryptography;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Vault;

namespace EcomDr.Engine.Sources.Vault;

/// <summary>A secrets export: the backup written, or the one whose content is unchanged (Skipped).</summary>
public sealed record SecretBackupResult(BackupInfo Backup, bool Skipped, SecretExportSummary Summary);

/// <summary>
/// One export of Vault's KV secrets as a <c>secrets</c> backup, on change: a first pass computes the
/// keyed digest only (nothing is stored); when it equals the newest secrets backup's, nothing is
/// written unless forced. Otherwise the second pass streams the document into the artifact, and the
/// manifest records that pass's digest and counts. The digest key is derived from the environment's
/// local key, so the digest tells nothing to whoever reads the manifest.
/// </summary>
public static class SecretBackup
{
    public const string ArtifactName = "vault-export.json";
    public const string DigestPurpose = "secrets-digest";

    public static async Task<SecretBackupResult> RunAsync(RepositoryContext context, KvV2 kv, IReadOnlyList<SecretSource> sources, bool allVersions, bool force,
        CancellationToken ct)
    {
        var local = context.KeyProviders.OfType<LocalKeyFile>().FirstOrDefault()
            ?? throw new EcomDrException(ErrorIds.KeyNotFound, FailureKind.ObjectNotFound,
                "A secrets export needs a local key file among the environment's keys: its digest is keyed with it.", context.Environment);
        var key = local.DeriveKey(DigestPurpose);
        try
        {
            var probe = await SecretExport.WriteAsync(kv, sources, allVersions, key, Stream.Null, context.Now, ct).ConfigureAwait(false);
            if (!force && await NewestAsync(context, ct).ConfigureAwait(false) is { } newest && (string?)newest.Source["contentDigest"] == probe.Digest)
            {
                return new SecretBackupResult(newest, true, probe);
            }

            var labels = new Dictionary<string, string> { ["mounts"] = string.Join(",", probe.Mounts) };
            await using var writer = await BackupWriter.BeginAsync(context, BackupKinds.Secrets, labels, ct).ConfigureAwait(false);
            SecretExportSummary? written = null;
            await writer.AddArtifactAsync(ArtifactName, async (stream, c) => written = await SecretExport.WriteAsync(kv, sources, allVersions, key, stream, context.Now, c)
                .ConfigureAwait(false), ct).ConfigureAwait(false);
            writer.Source["contentDigest"] = written!.Digest;
            writer.Source["mounts"] = string.Join(",", written.Mounts);
            writer.Source["secrets"] = written.Secrets;
            writer.Source["versions"] = written.Versions;
            writer.Source["values"] = written.ValuesExported;
            writer.Source["allVersions"] = allVersions;
            return new SecretBackupResult(await writer.CompleteAsync(ct).ConfigureAwait(false), false, written);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static async Task<BackupInfo?> NewestAsync(RepositoryContext context, CancellationToken ct) =>
        (await BackupCatalog.ListAsync(context, BackupKinds.Secrets, ct, CatalogDetail.Summary).ConfigureAwait(false))
            .LastOrDefault(b => b.Status == BackupStatus.Complete);
}
