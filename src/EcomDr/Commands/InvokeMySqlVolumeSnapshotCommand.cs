using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Config;
using EcomDr.Engine.Operations.Telemetry;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Snapshots;

namespace EcomDr.Commands;

/// <summary>
/// Takes a consistent volume snapshot of the MySQL node: commits blocked, exact binlog coordinates and
/// GTID state recorded, the provider's snapshot taken and copied offsite, and a signed mysql-snapshot
/// backup written that PITR can start from.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "MySqlVolumeSnapshot", SupportsShouldProcess = true, DefaultParameterSetName = Configured)]
[OutputType(typeof(BackupInfo))]
public sealed class InvokeMySqlVolumeSnapshotCommand : MySqlSourceCmdlet, IJobCmdlet
{
    private const string Configured = "Configured";
    private const string Directory = "Directory";

    /// <summary>The directory provider without a configuration: the folder that keeps the copies.</summary>
    [Parameter(Mandatory = true, ParameterSetName = Directory)]
    [ValidateNotNullOrEmpty]
    public string? SnapshotPath { get; set; }

    /// <summary>With -SnapshotPath: a second folder each copy is copied to.</summary>
    [Parameter(ParameterSetName = Directory)]
    [ValidateNotNullOrEmpty]
    public string? OffsitePath { get; set; }

    /// <summary>The data directory as the provider sees it. Default: the configuration's, else the server's datadir.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DataDirectory { get; set; }

    /// <summary>The longest commits may be blocked, in seconds (default: the configuration's, else 30).</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int MaxFreeze { get; set; }

    [Parameter]
    public System.Collections.Hashtable? Label { get; set; }

    [Parameter]
    [ValidatePattern("^https?://")]
    public string? PushgatewayUrl { get; set; }

    protected override void EndProcessing()
    {
        var config = LoadConfig();
        var environment = Run(() => config.GetEnvironment(Environment));
        var configured = environment.MySql?.VolumeSnapshot;
        ISnapshotProvider provider;
        if (SnapshotPath is not null)
        {
            provider = new DirectorySnapshotProvider(new DirectoryProviderOptions(GetUnresolvedProviderPathFromPSPath(SnapshotPath),
                OffsitePath is null ? null : GetUnresolvedProviderPathFromPSPath(OffsitePath)));
        }
        else if (configured is not null)
        {
            provider = Run(configured.CreateProvider);
        }
        else
        {
            Run<object>(() => throw new Engine.Errors.EcomDrException(Engine.Errors.ErrorIds.SourceNotConfigured, Engine.Errors.FailureKind.ObjectNotFound,
                $"{config.SourcePath ?? "embedded defaults"}: environments.{environment.Name}.mysql has no volumeSnapshot section; add one (docs/configuration.md), or give -SnapshotPath for the directory provider.",
                $"environments.{environment.Name}.mysql.volumeSnapshot"));
            return;
        }

        var endpoint = ResolveSource(config, environment);
        var maxFreeze = TimeSpan.FromSeconds(MaxFreeze > 0 ? MaxFreeze : configured?.MaxFreezeSeconds ?? VolumeSnapshotOptions.DefaultMaxFreeze.TotalSeconds);
        var dataDirectory = DataDirectory ?? configured?.DataDirectory;
        if (!ShouldProcess($"{endpoint.Display} with the {provider.Name} provider (commits blocked for at most {maxFreeze.TotalSeconds:0} s)", "Volume snapshot"))
        {
            return;
        }

        using var repository = OpenRepository(forWriting: true);
        var labels = LabelsOf(Label);
        var result = RunJob(repository, "volume-snapshot", BackupKinds.MySqlSnapshot,
            ct => VolumeSnapshot.RunAsync(repository.Context, endpoint, provider, new VolumeSnapshotOptions(maxFreeze, labels, dataDirectory), ct),
            r => new JobResult(true, r.Backup.Size, r.Backup.ArtifactCount, new Dictionary<string, double> { [MetricNames.SnapshotFreeze] = Math.Round(r.Freeze.TotalSeconds, 3) }));
        foreach (var warning in result.Warnings)
        {
            WriteWarning(warning);
        }

        WriteVerbose($"Commits blocked {result.Freeze.TotalMilliseconds:0} ms by {result.Method}{(result.Attempts > 1 ? $" ({result.Attempts} copies: InnoDB wrote during the first)" : "")}, at {result.BinlogFile}:{result.BinlogPosition} / {result.GtidSet}.");
        WriteVerbose($"Snapshot {string.Join(", ", result.Taken.Ids)}{(result.Taken.Region is { } r ? $" in {r}" : "")}" +
            (result.Offsite is { } o ? $", copied as {string.Join(", ", o.Ids)} to {o.Region}." : ", no offsite copy."));
        WriteObject(result.Backup);
    }
}
