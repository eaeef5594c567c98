using System.Diagnostics;
using EcomDr.Engine.Errors;
using EcomDr.Engine.MySql.Binlog;
using EcomDr.Engine.MySql.Dump;
using EcomDr.Engine.MySql.Load;
using EcomDr.Engine.Repository;

namespace EcomDr.Engine.MySql.Pitr;

/// <summary>What a point-in-time recovery restores, and where it stops.</summary>
public sealed record PitrOptions(
    DateTimeOffset? TargetTime = null,
    string? StopBeforeGtid = null,
    (string File, long Position)? StopAtPosition = null,
    string? BackupId = null,
    RestoreOptions? Restore = null,
    bool AllowPartial = false,
    bool? PreserveGtids = null)
{
    public RestoreOptions RestoreOptions => Restore ?? new RestoreOptions();

    public string Describe() =>
        TargetTime is { } t ? $"the last transaction committed at or before {t:u}"
        : StopBeforeGtid is { } g ? $"right before GTID {g}"
        : StopAtPosition is { } p ? $"the last transaction ending at or before {p.File}:{p.Position}"
        : "the newest shipped transaction";
}

/// <summary>What will be done: which full backup, which shipped segments, up to where.</summary>
public sealed record PitrPlan(BackupInfo Backup, RestorePlan Restore, IReadOnlyList<BinlogSegment> Segments, string BinlogFile, long BinlogPosition,
    DateTimeOffset? NewestShippedEvent, PitrOptions Options)
{
    public string Describe() =>
        $"restore full backup {Backup.Id} ({Backup.Coordinates}) into {string.Join(", ", Restore.SchemaMap.Select(m => m.Key == m.Value ? m.Key : $"{m.Key} -> {m.Value}"))}, " +
        $"then replay {Segments.Count} shipped binlog segment(s) from {BinlogFile}:{BinlogPosition} up to {Options.Describe()}";
}

/// <summary>What a point-in-time recovery reached, phase by phase.</summary>
public sealed record PitrResult(
    string BackupId,
    string Target,
    IReadOnlyDictionary<string, string> Schemas,
    string Requested,
    string LastGtid,
    string LastPosition,
    DateTimeOffset? LastCommitTime,
    long Transactions,
    long Events,
    string StoppedBecause,
    TimeSpan FullRestorePhase,
    TimeSpan ReplayPhase,
    TimeSpan Elapsed,
    double? AchievedRpoSeconds);

/// <summary>
/// Restore-MySqlPitr's engine: picks the newest full backup before the target, proves the shipped
/// binlog continuous from its coordinates (and reaching the target), then restores it and replays.
/// Everything is checked before the target server is touched.
/// </summary>
public static class PitrRestorer
{
    public const string TargetNotReachable = "EcomDr.TargetNotReachable";

    public static async Task<PitrPlan> PlanAsync(RepositoryContext context, PitrOptions options, CancellationToken ct)
    {
        var backups = (await BackupCatalog.ListAsync(context, DumpOptions.Kind, ct).ConfigureAwait(false)).Where(b => b.Status == BackupStatus.Complete).ToList();
        BackupInfo? backup;
        if (options.BackupId is { } id)
        {
            backup = backups.FirstOrDefault(b => b.Id == id)
                ?? throw new EcomDrException(ErrorIds.BackupNotFound, FailureKind.ObjectNotFound, $"No complete full backup {id} in {context.Store.Name}.", id);
        }
        else
        {
            backup = backups.Where(b => options.TargetTime is not { } t || (b.Completed ?? b.Created) <= t).OrderBy(b => b.Created).LastOrDefault()
                ?? throw new EcomDrException(ErrorIds.BackupNotFound, FailureKind.ObjectNotFound, options.TargetTime is { } t
                    ? $"No complete full backup finished before {t:u}; the oldest finished at {backups.Select(b => b.Completed).Min():u}."
                    : $"No complete full backup in {context.Store.Name}.", options.TargetTime?.ToString("O") ?? "");
        }

        var file = (string?)backup.Manifest!.Source["binlogFile"]
            ?? throw new EcomDrException(ErrorIds.ManifestInvalid, FailureKind.InvalidData, $"Backup {backup.Id} records no binlog coordinates.", backup.Id);
        var position = (long)backup.Manifest.Source["binlogPosition"]!;
        var chain = await BinlogChain.LoadAsync(context, ct).ConfigureAwait(false);
        var (covering, breaks) = chain.From(file, position);
        if (covering.Count == 0 || breaks.Count > 0)
        {
            var why = breaks.Count > 0 ? string.Join("; ", breaks.Select(b => $"after {b.After}: {b.Reason}")) : "nothing shipped covers it";
            throw new EcomDrException(BinlogShipper.GapErrorId, FailureKind.ResourceUnavailable,
                $"The shipped binlog is not continuous from backup {backup.Id} at {file}:{position}: {why}. Nothing was changed.", backup.Id);
        }

        var newest = covering.LastOrDefault(s => s.LastEventTime is not null)?.LastEventTime;
        if (options.TargetTime is { } target && (newest is null || newest < target) && !options.AllowPartial)
        {
            throw new EcomDrException(TargetNotReachable, FailureKind.InvalidArgument,
                $"The newest shipped event is at {newest:u}, before the target {target:u}: the best reachable point is {covering[^1].File}:{covering[^1].EndOffset} ({covering.Last(s => s.LastGtid.Length > 0).LastGtid}). " +
                "Ship the binlog first (Send-Binlog), or use -AllowPartial to restore to that point. Nothing was changed.", target.ToString("O"));
        }

        var restore = await RestorePlan.CreateAsync(context, backup, options.RestoreOptions, ct).ConfigureAwait(false);
        return new PitrPlan(backup, restore, covering, file, position, newest, options);
    }

    public static async Task<PitrResult> RunAsync(RepositoryContext context, PitrPlan plan, MySqlEndpoint target, IProgress<RestoreProgress>? restoreProgress,
        IProgress<ReplayProgress>? replayProgress, CancellationToken ct)
    {
        var total = Stopwatch.StartNew();
        var options = plan.Options;
        await MySqlRestorer.RunAsync(context, plan.Restore, target, options.RestoreOptions, restoreProgress, ct).ConfigureAwait(false);
        var restored = total.Elapsed;

        // Into a renamed schema (beside the live one) the original GTIDs would collide with the live server's own.
        var renamed = plan.Restore.SchemaMap.Any(m => m.Key != m.Value);
        var replayOptions = new ReplayOptions(options.TargetTime, options.StopBeforeGtid, options.StopAtPosition, plan.Restore.SchemaMap,
            options.PreserveGtids ?? !renamed, options.RestoreOptions.NoBinlog);
        var replay = await BinlogReplayer.ReplayAsync(target, SegmentEvents.ReadAsync(context, plan.Segments, plan.BinlogFile, plan.BinlogPosition, ct),
            replayOptions, replayProgress, ct).ConfigureAwait(false);
        double? rpo = options.TargetTime is { } t && replay.LastCommitTime is { } last ? Math.Max(0, (t - last).TotalSeconds) : null;
        return new PitrResult(plan.Backup.Id, target.Display, plan.Restore.SchemaMap, options.Describe(), replay.LastGtid,
            replay.LastFile.Length > 0 ? $"{replay.LastFile}:{replay.LastPosition}" : $"{plan.BinlogFile}:{plan.BinlogPosition}", replay.LastCommitTime,
            replay.Transactions, replay.Events, replay.StoppedBecause, restored, replay.Elapsed, total.Elapsed, rpo);
    }
}
