namespace EcomDr.Engine.Operations.Telemetry;

/// <summary>
/// What one job run did, as the metrics and the job log record it. Job: full-backup,
/// binlog-shipping, offsite-copy, integrity-test, drill, file-backup. Kind: the backup kind (or the
/// drill kind). Figures: the job's own gauges, by metric name (for example ecomdr_drill_rto_seconds).
/// </summary>
public sealed record JobOutcome(
    string Environment,
    string Job,
    string Kind,
    string Store,
    DateTimeOffset Started,
    DateTimeOffset Finished,
    bool Succeeded,
    long BytesStored = 0,
    int Artifacts = 0,
    IReadOnlyDictionary<string, double>? Figures = null,
    string? Error = null)
{
    public double DurationSeconds => Math.Max(0, (Finished - Started).TotalSeconds);
}
