using System.Security.Cryptography;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Vault;

namespace EcomDr.Engine.Sources.Vault;

public enum SecretChangeKind
{
    /// <summary>Not in the target: written with check-and-set 0.</summary>
    Added,

    /// <summary>In the target with another value or other metadata.</summary>
    Changed,

    /// <summary>Same value (by digest) and same metadata: nothing to write.</summary>
    Unchanged,

    /// <summary>In the target under an exported prefix, not in the export: reported, never deleted.</summary>
    OnlyInTarget,

    /// <summary>The version asked for has no value in the export (deleted or destroyed at export time): nothing to write.</summary>
    NoValue,
}

/// <summary>
/// One path of a re-injection: what differs (names of fields, never values), what was written.
/// Differences: "value", "customMetadata", "maxVersions", "casRequired", "deleteVersionAfter".
/// </summary>
public sealed record VaultSecretChange(string Mount, string Path, SecretChangeKind Change, IReadOnlyList<string> Differences, int SourceVersion, int? TargetVersion)
{
    public string FullPath => $"{Mount}/{Path}";

    public bool WritesValue => Change == SecretChangeKind.Added || Differences.Contains("value");

    public bool WritesMetadata => Change == SecretChangeKind.Added || Differences.Any(d => d != "value");

    public bool Applied { get; init; }

    /// <summary>The target version the value was written as (KV numbers it: history cannot be restored).</summary>
    public int? WrittenVersion { get; init; }

    /// <summary>Kept in memory between the plan and the writes, to check the same bytes are written; never shown.</summary>
    internal byte[]? SourceDigest { get; init; }

    /// <summary>What a restore does with it, for a confirmation prompt (names of what differs, never values).</summary>
    public string Describe() => Change switch
    {
        SecretChangeKind.Added => $"Write version {SourceVersion} of the backup as a new secret, with its metadata",
        SecretChangeKind.Changed when WritesValue => $"Write version {SourceVersion} of the backup over version {TargetVersion} ({string.Join(", ", Differences)} differ)",
        SecretChangeKind.Changed => $"Set {string.Join(", ", Differences)}",
        _ => Change.ToString(),
    };

    /// <summary>The change as it is shown: without the digest the plan kept.</summary>
    public VaultSecretChange WithoutDigest() => this with { SourceDigest = null };

    public override string ToString() => $"{FullPath}: {Change}{(Differences.Count > 0 ? $" ({string.Join(", ", Differences)})" : "")}";
}

/// <summary>The plan of a re-injection: every selected path, and the export's sources.</summary>
public sealed record SecretRestorePlan(BackupInfo Backup, Uri Target, IReadOnlyList<VaultSecretChange> Changes, int Version, bool Overwrite);

/// <summary>
/// Re-injects a secrets backup into a Vault (the rebuilt primary or the secondary), without a
/// plaintext file: the export is read twice from the decrypting artifact stream, once to plan
/// (every selected secret compared with the target by digest, the whole artifact verified), once to
/// write the approved paths with check-and-set, then their metadata. Nothing is written when any
/// path would be refused.
/// </summary>
public static class SecretRestore
{
    /// <summary>The secrets backup by id, or the newest complete one; a clear error when there is none.</summary>
    public static async Task<BackupInfo> FindAsync(RepositoryContext context, string? id, CancellationToken ct)
    {
        if (id is not null)
        {
            return await RequireSecretsAsync(context, await BackupCatalog.GetAsync(context, id, ct).ConfigureAwait(false), ct).ConfigureAwait(false);
        }

        var newest = (await BackupCatalog.ListAsync(context, BackupKinds.Secrets, ct).ConfigureAwait(false)).LastOrDefault(b => b.Status == BackupStatus.Complete)
            ?? throw new EcomDrException(ErrorIds.BackupNotFound, FailureKind.ObjectNotFound,
                $"No complete secrets backup in {context.Store.Name} for environment '{context.Environment}'; take one with Backup-VaultSecret.", context.Environment);
        return await RequireSecretsAsync(context, newest, ct).ConfigureAwait(false);
    }

    public static async Task<SecretRestorePlan> PlanAsync(RepositoryContext context, BackupInfo backup, KvV2 target, Uri targetAddress, SecretSelection selection,
        int version, bool overwrite, CancellationToken ct)
    {
        backup = await RequireSecretsAsync(context, backup, ct).ConfigureAwait(false);
        if (version > 0 && backup.Manifest!.Source["allVersions"]?.GetValue<bool>() != true)
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument,
                $"Backup {backup.Id} holds current values only (taken without -AllVersions): version {version} cannot be restored from it.", backup.Id);
        }

        var changes = new List<VaultSecretChange>();
        var exported = new HashSet<string>(StringComparer.Ordinal);
        var sources = new List<SecretSource>();
        var missingVersion = new List<string>();
        var checkedMounts = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var item in ReadAsync(context, backup, sources, ct).ConfigureAwait(false))
        {
            using var secret = item;
            exported.Add(secret.FullPath);
            if (!selection.Matches(secret.FullPath))
            {
                continue;
            }

            if (checkedMounts.Add(secret.Metadata.Mount))
            {
                await target.CheckMountAsync(secret.Metadata.Mount, ct).ConfigureAwait(false);
            }

            var wanted = version == 0 ? secret.Metadata.CurrentVersion : version;
            if (secret.DataOf(wanted) is not { } data)
            {
                if (version > 0)
                {
                    missingVersion.Add($"{secret.FullPath} (version {version} {StateOf(secret, version)})");
                }

                changes.Add(new VaultSecretChange(secret.Metadata.Mount, secret.Metadata.Path, SecretChangeKind.NoValue, [StateOf(secret, wanted)], wanted, null));
                continue;
            }

            changes.Add(await CompareAsync(target, secret, wanted, ValueDigest.Of(data), ct).ConfigureAwait(false));
        }

        var unmatched = selection.Unmatched(exported).ToList();
        if (unmatched.Count > 0)
        {
            throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.ObjectNotFound,
                $"Backup {backup.Id} holds no secret {string.Join(", ", unmatched.Select(u => $"'{u}'"))}; nothing was written.", unmatched[0]);
        }

        if (missingVersion.Count > 0)
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument,
                $"Version {version} has no value in backup {backup.Id} for {missingVersion.Count} selected secret(s): {Sample(missingVersion)}; narrow the selection with -Path. Nothing was written.", backup.Id);
        }

        foreach (var source in sources)
        {
            if (!checkedMounts.Contains(source.Mount))
            {
                continue;
            }

            await foreach (var path in target.WalkAsync(source.Mount, source.Prefix, ct).ConfigureAwait(false))
            {
                var full = $"{source.Mount}/{path}";
                if (!exported.Contains(full) && selection.Matches(full) && changes.All(c => c.FullPath != full))
                {
                    changes.Add(new VaultSecretChange(source.Mount, path, SecretChangeKind.OnlyInTarget, [], 0, null));
                }
            }
        }

        return new SecretRestorePlan(backup, targetAddress, changes, version, overwrite);
    }

    /// <summary>
    /// Refuses, before anything is written, a plan that would replace secrets without -Overwrite: the
    /// target holds values the backup would overwrite, and that must be asked for.
    /// </summary>
    public static void RequireAllowed(SecretRestorePlan plan)
    {
        var refused = plan.Changes.Where(c => c.Change == SecretChangeKind.Changed && c.WritesValue).Select(c => c.FullPath).ToList();
        if (!plan.Overwrite && refused.Count > 0)
        {
            throw new EcomDrException(ErrorIds.DestinationExists, FailureKind.ResourceExists,
                $"{refused.Count} secret(s) exist in {plan.Target} with another value: {Sample(refused)}. Give -Overwrite to write the backup's value as their next version; nothing was written.", refused[0]);
        }
    }

    /// <summary>
    /// Writes the approved paths of a plan: each value with check-and-set (0 for a new secret, the
    /// target's version seen by the plan for a replaced one, so a write made since is never lost),
    /// then the metadata. The first refusal stops the run; the changes returned say what was written.
    /// </summary>
    public static async Task<IReadOnlyList<VaultSecretChange>> ApplyAsync(RepositoryContext context, SecretRestorePlan plan, KvV2 target,
        IReadOnlySet<string> approved, CancellationToken ct)
    {
        RequireAllowed(plan);
        // Retention keeps the backup while it is read again for the writes.
        await using var lease = await ReadLease.TakeAsync(context, [plan.Backup], "secrets restore", ct).ConfigureAwait(false);
        var byPath = plan.Changes.ToDictionary(c => c.FullPath, StringComparer.Ordinal);
        var done = new Dictionary<string, VaultSecretChange>(StringComparer.Ordinal);
        try
        {
            await foreach (var item in ReadAsync(context, plan.Backup, null, ct).ConfigureAwait(false))
            {
                using var secret = item;
                if (!approved.Contains(secret.FullPath) || !byPath.TryGetValue(secret.FullPath, out var change) || !(change.WritesValue || change.WritesMetadata))
                {
                    continue;
                }

                int? written = null;
                if (change.WritesValue)
                {
                    var data = secret.DataOf(change.SourceVersion)!;
                    if (!CryptographicOperations.FixedTimeEquals(ValueDigest.Of(data), change.SourceDigest))
                    {
                        throw new EcomDrException(ErrorIds.ArtifactCorrupt, FailureKind.InvalidData,
                            $"Backup {plan.Backup.Id} gave another value for '{secret.FullPath}' than when the restore was planned.", secret.FullPath);
                    }

                    written = await target.WriteAsync(secret.Metadata.Mount, secret.Metadata.Path, data, change.TargetVersion ?? 0, ct).ConfigureAwait(false);
                }

                if (change.WritesMetadata)
                {
                    await target.WriteMetadataAsync(secret.Metadata, ct).ConfigureAwait(false);
                }

                done[secret.FullPath] = change with { Applied = true, WrittenVersion = written, SourceDigest = null };
            }
        }
        catch (EcomDrException ex) when (done.Count > 0)
        {
            throw new EcomDrException(ex.ErrorId, ex.Kind, $"{ex.Message} {done.Count} secret(s) were written before this one: {Sample(done.Keys.ToList())}.", ex.Target, ex);
        }

        return plan.Changes.Select(c => done.TryGetValue(c.FullPath, out var d) ? d : c.WithoutDigest()).ToList();
    }

    // Target facts compared with the export: the current value by digest, then each metadata setting.
    private static async Task<VaultSecretChange> CompareAsync(KvV2 target, ExportedSecret secret, int version, byte[] digest, CancellationToken ct)
    {
        var (mount, path) = (secret.Metadata.Mount, secret.Metadata.Path);
        KvMetadata current;
        try
        {
            current = await target.ReadMetadataAsync(mount, path, ct).ConfigureAwait(false);
        }
        catch (EcomDrException ex) when (ex.ErrorId == ErrorIds.SecretNotFound)
        {
            return new VaultSecretChange(mount, path, SecretChangeKind.Added, ["value"], version, null) { SourceDigest = digest };
        }

        var differences = new List<string>();
        var read = current.Versions.Any(v => v.Version == current.CurrentVersion && v.Readable)
            ? await target.ReadVersionAsync(mount, path, current.CurrentVersion, ct).ConfigureAwait(false)
            : null;
        try
        {
            if (read?.Data is not { } data || !CryptographicOperations.FixedTimeEquals(ValueDigest.Of(data), digest))
            {
                differences.Add("value");
            }
        }
        finally
        {
            if (read?.Data is { } data)
            {
                CryptographicOperations.ZeroMemory(data);
            }
        }

        var wanted = secret.Metadata;
        if (!wanted.CustomMetadata.OrderBy(c => c.Key, StringComparer.Ordinal).SequenceEqual(current.CustomMetadata.OrderBy(c => c.Key, StringComparer.Ordinal)))
        {
            differences.Add("customMetadata");
        }

        if (wanted.MaxVersions != current.MaxVersions)
        {
            differences.Add("maxVersions");
        }

        if (wanted.CasRequired != current.CasRequired)
        {
            differences.Add("casRequired");
        }

        if (!SameDuration(wanted.DeleteVersionAfter, current.DeleteVersionAfter))
        {
            differences.Add("deleteVersionAfter");
        }

        return new VaultSecretChange(mount, path, differences.Count == 0 ? SecretChangeKind.Unchanged : SecretChangeKind.Changed, differences, version, current.CurrentVersion)
        {
            SourceDigest = digest,
        };
    }

    // The export's secrets, one at a time; the artifact is read to its end, which checks its hashes.
    private static async IAsyncEnumerable<ExportedSecret> ReadAsync(RepositoryContext context, BackupInfo backup, List<SecretSource>? sources,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var artifact = backup.Manifest!.Artifacts.Single(a => a.Name == SecretBackup.ArtifactName);
        await using var stream = await ArtifactReader.OpenAsync(context.Store, backup.Prefix + artifact.Path, artifact, context.KeyProviders, ct).ConfigureAwait(false);
        using var reader = new ExportDocumentReader(stream, $"backup {backup.Id}");
        await foreach (var (array, element) in reader.ElementsAsync(ct).ConfigureAwait(false))
        {
            if (array == "secrets")
            {
                yield return ExportedSecret.Parse(element);
            }
            else if (array == "sources" && sources is not null)
            {
                using var document = System.Text.Json.JsonDocument.Parse(element);
                sources.Add(new SecretSource(document.RootElement.GetProperty("mount").GetString()!, document.RootElement.GetProperty("prefix").GetString()!));
            }
        }

        await stream.CopyToAsync(Stream.Null, ct).ConfigureAwait(false);
    }

    private static async Task<BackupInfo> RequireSecretsAsync(RepositoryContext context, BackupInfo backup, CancellationToken ct)
    {
        var full = backup.Manifest is null || backup.Status != BackupStatus.Complete ? await BackupCatalog.GetAsync(context, backup.Id, ct).ConfigureAwait(false) : backup;
        if (full.Kind != BackupKinds.Secrets || full.Manifest!.Artifacts.All(a => a.Name != SecretBackup.ArtifactName))
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument,
                $"Backup {full.Id} is a '{full.Kind}' backup, not a Vault export (kind secrets).", full.Id);
        }

        return full;
    }

    private static string StateOf(ExportedSecret secret, int version) =>
        secret.Versions.FirstOrDefault(v => v.Version == version) switch
        {
            null => "not in the export",
            { Destroyed: true } => "destroyed",
            { Deleted: not null } => "deleted",
            _ => "not exported",
        };

    // Vault answers "0s" where a writer may have sent "0" or "": the same setting.
    private static bool SameDuration(string a, string b) => Normal(a) == Normal(b);

    private static string Normal(string d) => d is "" or "0" ? "0s" : d;

    private static string Sample(IReadOnlyList<string> paths) =>
        string.Join(", ", paths.Take(5)) + (paths.Count > 5 ? $" and {paths.Count - 5} more" : "");
}
