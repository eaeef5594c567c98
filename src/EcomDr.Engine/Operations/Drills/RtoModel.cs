using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Pitr;

namespace EcomDr.Engine.Operations.Drills;

/// <summary>The rates one drill measured: stored bytes per second of full restore and of replay, and the seconds of everything else.</summary>
public sealed record RtoRates(string DrillId, DateTimeOffset Measured, double FullBytesPerSecond, double ReplayBytesPerSecond, double OtherSeconds)
{
    public static RtoRates? Of(DrillReport report)
    {
        var full = report.Phases.FirstOrDefault(p => p.Name == "download + full restore")?.Seconds;
        var replay = report.Phases.FirstOrDefault(p => p.Name == "download + replay")?.Seconds;
        if (!report.Passed || report.FullRestoreBytes is not { } fullBytes || report.ReplayBytes is not { } replayBytes || full is not > 0 || replay is null)
        {
            return null;
        }

        // A drill that replayed next to nothing says little about replay: its rate is floored at what the full restore reached.
        var replayRate = replayBytes > 0 && replay > 0 ? replayBytes / replay.Value : fullBytes / full.Value;
        return new RtoRates(report.Id, report.Finished, fullBytes / full.Value, replayRate, Math.Max(0, report.RtoSeconds - full.Value - replay.Value));
    }

    /// <summary>Predicted seconds to restore this much: the full backup, then the segments, then the rest a drill spends (checks, validation, probes).</summary>
    public (double Full, double Replay, double Total) Predict(long fullBytes, long replayBytes)
    {
        var full = fullBytes / FullBytesPerSecond;
        var replay = replayBytes / ReplayBytesPerSecond;
        return (full, replay, full + replay + OtherSeconds);
    }
}

/// <summary>What a recovery to the newest point would take now, by the rates of the latest drill that measured them.</summary>
public sealed record RtoEstimate(
    string Environment,
    string Store,
    string BackupId,
    long FullBytes,
    int Segments,
    long BinlogBytes,
    double FullRestoreSeconds,
    double ReplaySeconds,
    double OtherSeconds,
    double PredictedSeconds,
    double ObjectiveSeconds,
    string BasedOnDrill,
    DateTimeOffset RatesMeasured)
{
    /// <summary>The prediction against the objective: 1 is the objective itself; the alert fires above 0.8.</summary>
    public double Share => ObjectiveSeconds > 0 ? PredictedSeconds / ObjectiveSeconds : 0;

    public string Verdict => Share <= 0.8 ? "within" : Share <= 1 ? "near" : "over";
}

/// <summary>
/// The RTO model: restore time grows with the stored size of the full backup and of the binlog shipped
/// since, at the rates the latest passing drill measured for each (it records both sizes and both
/// times), plus what else that drill spent. Each drill records the model's prediction for itself, so
/// the model is checked against reality every month (docs/observability.md).
/// </summary>
public static class RtoModel
{
    /// <summary>The rates of the newest passing drill that recorded them, or null.</summary>
    public static RtoRates? LatestRates(IEnumerable<DrillReport> reports) =>
        reports.OrderByDescending(r => r.Finished).Select(RtoRates.Of).FirstOrDefault(r => r is not null);

    public static async Task<RtoEstimate> EstimateAsync(RepositoryContext context, EnvironmentConfig environment, CancellationToken ct)
    {
        var rates = LatestRates(await DrillReportStore.ListAsync(context, ct).ConfigureAwait(false))
            ?? throw new EcomDrException(ErrorIds.BackupNotFound, FailureKind.ObjectNotFound,
                $"No passing drill in {context.Store.Name} has measured restore rates yet: run Start-DrDrill Pitr (it records them), then ask again.", context.Store.Name);
        var plan = await PitrRestorer.PlanAsync(context, new PitrOptions(AllowPartial: true), ct).ConfigureAwait(false);
        var binlogBytes = plan.Segments.Sum(s => s.Backup.Size);
        var (full, replay, total) = rates.Predict(plan.Backup.Size, binlogBytes);
        return new RtoEstimate(context.Environment, context.Store.Name, plan.Backup.Id, plan.Backup.Size, plan.Segments.Count, binlogBytes,
            Math.Round(full, 1), Math.Round(replay, 1), Math.Round(rates.OtherSeconds, 1), Math.Round(total, 1), environment.Objectives.RtoMinutes * 60.0,
            rates.DrillId, rates.Measured);
    }
}
