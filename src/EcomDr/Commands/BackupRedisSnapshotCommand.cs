using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Config;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.Redis;

namespace EcomDr.Commands;

/// <summary>
/// Takes a Redis RDB snapshot over the replication protocol (no redis-cli), checks it as it streams
/// (magic, version, every key, CRC-64) and stores it encrypted; a transfer that stalls, is cut or is
/// damaged leaves no complete backup.
/// </summary>
[Cmdlet(VerbsData.Backup, "RedisSnapshot", SupportsShouldProcess = true)]
[OutputType(typeof(BackupInfo))]
public sealed class BackupRedisSnapshotCommand : RepositoryCmdlet, IJobCmdlet
{
    /// <summary>A Redis instead of the configuration's: then only the parameters describe it.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Server { get; set; }

    [Parameter]
    [ValidateRange(1, 65535)]
    public int? Port { get; set; }

    /// <summary>The ACL user and password (the default user when the user name is "default").</summary>
    [Parameter]
    [Credential]
    public PSCredential Credential { get; set; } = PSCredential.Empty;

    [Parameter]
    [ValidateSet("None", "Required", "Verify")]
    public string? Tls { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CaFile { get; set; }

    [Parameter]
    [ValidateRange(1, 3600)]
    public int? ReadTimeoutSeconds { get; set; }

    [Parameter]
    public System.Collections.Hashtable? Label { get; set; }

    [Parameter]
    [ValidatePattern("^https?://")]
    public string? PushgatewayUrl { get; set; }

    protected override void EndProcessing()
    {
        var config = LoadConfig();
        var environment = Run(() => config.GetEnvironment(Environment));
        var overrides = new RedisOverrides(Server, Port, Tls is null ? null : Enum.Parse<RedisTlsMode>(Tls, ignoreCase: true),
            CaFile is null ? null : GetUnresolvedProviderPathFromPSPath(CaFile), ReadTimeoutSeconds, ConnectionParameters.ToResolved(Credential));
        // Credential lookups (an Automation asset) run here, on the pipeline thread.
        var resolver = new CredentialResolver(ConnectionParameters.AutomationLookup(this));
        var (endpoint, expected) = Run(ct => RedisEndpointResolver.ResolveAsync(config, environment, overrides, resolver, ct));
        if (!ShouldProcess(endpoint.Display, "Take an RDB snapshot"))
        {
            return;
        }

        using var repository = OpenRepository(forWriting: true);
        var labels = LabelsOf(Label);
        var progress = new LatestProgress<long>();
        var activity = $"RDB snapshot of {endpoint.Display}";
        WriteVerbose($"Fetching the RDB of {endpoint.Display} as user '{endpoint.User ?? "(none)"}' into {repository.Context.Store.Location}.");
        var result = RunJob(repository, "redis-snapshot", BackupKinds.Redis, ct => RedisSnapshot.RunAsync(repository.Context, endpoint, expected, labels, progress, ct),
            r => new JobResult(true, r.Backup.Size, r.Backup.ArtifactCount), () =>
            {
                if (progress.TryGet(out var bytes))
                {
                    WriteProgress(new ProgressRecord(6, activity, $"{FormatBytes(bytes)} received"));
                }
            });
        CompleteProgress(6, activity);
        foreach (var warning in result.Warnings)
        {
            WriteWarning(warning);
        }

        WriteVerbose($"RDB version {result.Rdb.Version}, {result.Rdb.Keys:N0} key(s), {FormatBytes(result.Rdb.Bytes)}, checksum {(result.Rdb.ChecksumVerified ? "verified" : "absent (unverified)")}, {(result.Diskless ? "diskless" : "disk-based")} transfer.");
        WriteObject(result.Backup);
    }
}
