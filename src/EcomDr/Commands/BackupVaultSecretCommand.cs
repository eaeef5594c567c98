using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.Vault;
using EcomDr.Engine.Vault;

namespace EcomDr.Commands;

/// <summary>Exports Vault's KV version 2 secrets as an encrypted secrets backup, on change only.</summary>
[Cmdlet(VerbsData.Backup, "VaultSecret", SupportsShouldProcess = true)]
[OutputType(typeof(SecretBackupResult))]
public sealed class BackupVaultSecretCommand : VaultCmdlet, IJobCmdlet
{
    /// <summary>Push this job's metrics to this Pushgateway (before ECOMDR_PUSHGATEWAY_URL and the configuration's telemetry.pushgatewayUrl).</summary>
    [Parameter]
    [ValidatePattern("^https?://")]
    public string? PushgatewayUrl { get; set; }

    /// <summary>KV version 2 mounts to export instead of the configured ones.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string[]? Mount { get; set; }

    /// <summary>Path prefixes under each -Mount (none: the whole mount).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Prefix { get; set; }

    /// <summary>Export every readable version's value, not only the current one's.</summary>
    [Parameter]
    public SwitchParameter AllVersions { get; set; }

    /// <summary>Write a backup even when the content equals the newest secrets backup's.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void EndProcessing()
    {
        if (Prefix is not null && Mount is null)
        {
            Fail(Engine.Errors.ErrorIds.InvalidArgument, Engine.Errors.FailureKind.InvalidArgument, "-Prefix narrows -Mount: give the mounts too.", Prefix);
        }

        using var repository = OpenRepository(forWriting: true);
        var server = Run(() => VaultTargets.Server(repository.Environment, ConfigPath, VaultAddress, VaultNamespace));
        var sources = Run(() => VaultTargets.Sources(repository.Environment, ConfigPath, Mount, Prefix));
        var what = string.Join(", ", sources.Select(s => s.Prefix.Length == 0 ? s.Mount : $"{s.Mount}/{s.Prefix}"));
        var kv = new KvV2(ConnectVault(server));
        foreach (var mount in sources.Select(s => s.Mount).Distinct(StringComparer.Ordinal))
        {
            Run(async ct =>
            {
                await kv.CheckMountAsync(mount, ct).ConfigureAwait(false);
                return true;
            });
        }

        if (!ShouldProcess($"{server.Address} ({what})", $"Export the secrets{(AllVersions ? " (every version)" : "")} into {repository.Context.Store.Name}"))
        {
            return;
        }

        var result = RunJob(repository, "secrets-backup", BackupKinds.Secrets, ct => SecretBackup.RunAsync(repository.Context, kv, sources, AllVersions, Force, ct),
            r => new JobResult(true, r.Skipped ? 0 : r.Backup.Size, r.Skipped ? 0 : r.Backup.ArtifactCount));
        WriteVerbose(result.Skipped
            ? $"Unchanged since backup {result.Backup.Id}: no new backup was written (-Force writes one)."
            : $"Backup {result.Backup.Id}: {result.Summary.Secrets} secret(s), {result.Summary.Versions} version(s), {result.Summary.ValuesExported} value(s).");
        WriteObject(result);
    }
}
