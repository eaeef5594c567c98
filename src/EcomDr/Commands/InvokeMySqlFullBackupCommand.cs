using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Operations.Telemetry;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Dump;

namespace EcomDr.Commands;

/// <summary>Takes a consistent, parallel, encrypted full backup of MySQL/MariaDB schemas with exact binlog coordinates.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "MySqlFullBackup", SupportsShouldProcess = true)]
[OutputType(typeof(BackupInfo))]
public sealed class InvokeMySqlFullBackupCommand : MySqlSourceCmdlet, IJobCmdlet
{
    /// <summary>Push this job's metrics to this Pushgateway (before ECOMDR_PUSHGATEWAY_URL and the configuration's telemetry.pushgatewayUrl).</summary>
    [Parameter]
    [ValidatePattern("^https?://")]
    public string? PushgatewayUrl { get; set; }

    /// <summary>Schemas to back up. Default: the configuration's, else every non-system schema.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string[]? Schema { get; set; }

    [Parameter]
    [ValidateRange(1, 64)]
    public int ThreadCount { get; set; }

    /// <summary>Rows per data chunk of big tables (key ranges).</summary>
    [Parameter]
    [ValidateRange(1000, 100_000_000)]
    public long ChunkRows { get; set; } = 500_000;

    /// <summary>zstd level, 1 (fastest) to 19. Default 3.</summary>
    [Parameter]
    [ValidateRange(1, 19)]
    public int CompressionLevel { get; set; } = 3;

    [Parameter]
    public SwitchParameter IncludeUsers { get; set; }

    [Parameter]
    public System.Collections.Hashtable? Label { get; set; }

    protected override void EndProcessing()
    {
        var config = LoadConfig();
        var environment = Run(() => config.GetEnvironment(Environment));
        var endpoint = ResolveSource(config, environment);
        var schemas = Schema ?? (environment.MySql is { Schemas.Count: > 0 } mysql ? mysql.Schemas.ToArray() : null);
        if (!ShouldProcess($"{endpoint.Display} ({(schemas is null ? "all schemas" : string.Join(", ", schemas))})", "Full backup"))
        {
            return;
        }

        using var repository = OpenRepository(forWriting: true);
        var labels = LabelsOf(Label);
        var options = new DumpOptions(schemas, ThreadCount, ChunkRows, IncludeUsers: IncludeUsers, Labels: labels, CompressionLevel: CompressionLevel);
        WriteVerbose($"Backing up {endpoint.Display} with {options.Workers} thread(s) into {repository.Context.Store.Location}.");
        var progress = new LatestProgress<DumpProgress>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var activity = $"Full backup of {endpoint.Display}";
        var result = RunJob(repository, "full-backup", DumpOptions.Kind, ct => MySqlDumper.RunAsync(repository.Context, endpoint, options, progress, ct),
            r => new JobResult(true, r.Backup.Size, r.Backup.ArtifactCount), () =>
        {
            if (progress.TryGet(out var p))
            {
                var fraction = Math.Min(1.0, p.TotalRows / (double)Math.Max(1, p.TotalEstimate));
                var record = new ProgressRecord(5, activity, $"{p.TotalRows:N0} of ~{p.TotalEstimate:N0} rows, {FormatBytes(p.PlainBytes)}")
                {
                    PercentComplete = (int)(fraction * 100),
                    SecondsRemaining = fraction > 0.02 ? (int)(clock.Elapsed.TotalSeconds * (1 - fraction) / fraction) : -1,
                    CurrentOperation = $"{p.Table}: {p.TableRows:N0} of ~{p.TableEstimate:N0} rows",
                };
                WriteProgress(record);
            }
        });
        CompleteProgress(5, activity);
        foreach (var warning in result.Snapshot.Warnings)
        {
            WriteWarning(warning);
        }

        WriteVerbose($"Snapshot by {result.Snapshot.Method}, commits blocked {result.Snapshot.LockHeld.TotalMilliseconds:0} ms, at {result.Snapshot.BinlogFile}:{result.Snapshot.BinlogPosition} / {result.Snapshot.GtidSet}.");
        WriteVerbose($"{result.Tables} table(s), {result.Rows:N0} rows, {result.Chunks} chunk(s), {FormatBytes(result.PlainBytes)} of SQL in {clock.Elapsed.TotalSeconds:0.0} s.");
        WriteObject(result.Backup);
    }
}
