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
            if (!Precedes(backup, options))
            {
                throw new EcomDrException(TargetNotReachable, FailureKind.InvalidArgument,
                    $"Backup {id} ({backup.Coordinates}) was taken after {options.Describe()}: it already holds what should not be restored. Pick an older backup. Nothing was changed.", id);
            }
        }
        else
        {
            backup = backups.Where(b => Precedes(b, options)).OrderBy(b => b.Created).LastOrDefault()
                ?? throw new EcomDrException(ErrorIds.BackupNotFound, FailureKind.ObjectNotFound, backups.Count == 0
                    ? $"No complete full backup in {context.Store.Name}."
                    : $"No complete full backup was taken before {options.Describe()}; the oldest finished at {backups.Select(b => b.Completed).Min():u} ({backups.MinBy(b => b.Created)!.Coordinates}).",
                    options.TargetTime?.ToString("O") ?? options.StopBeforeGtid ?? options.StopAtPosition?.ToString() ?? "");
        }

        var (file, position) = Coordinates(backup);
        var chain = await BinlogChain.LoadAsync(context, ct).ConfigureAwait(false);
        // Replay reads the backup's binlog file from its start (its FORMAT_DESCRIPTION), so the chain must
        // hold that file from byte 4 on, even when it was shipped in several segments before the backup.
        var (covering, breaks) = chain.From(file, 4);
        if (covering.Count == 0)
        {
            (covering, breaks) = chain.From(file, position);
        }

        if (covering.Count == 0 || breaks.Count > 0)
        {
            var why = breaks.Count > 0 ? string.Join("; ", breaks.Select(b => $"after {b.After}: {b.Reason}")) : "nothing shipped covers it";
            throw new EcomDrException(BinlogShipper.GapErrorId, FailureKind.ResourceUnavailable,
                $"The shipped binlog is not continuous from backup {backup.Id} at {file}:{position}: {why}. Nothing was changed.", backup.Id);
        }

        var newest = covering.LastOrDefault(s => s.LastEventTime is not null)?.LastEventTime;
        if (!Reaches(covering, newest, options) && !options.AllowPartial)
        {
            var last = covering.LastOrDefault(s => s.LastGtid.Length > 0);
            throw new EcomDrException(TargetNotReachable, FailureKind.InvalidArgument,
                $"The shipped binlog ends before {options.Describe()} (newest shipped event at {newest:u}): the best reachable point is {covering[^1].File}:{covering[^1].EndOffset} ({last?.LastGtid ?? "no GTID"}). " +
                "Ship the binlog first (Send-Binlog), or use -AllowPartial to restore to that point. Nothing was changed.",
                options.TargetTime?.ToString("O") ?? options.StopBeforeGtid ?? options.StopAtPosition?.ToString() ?? "");
        }

        var restore = await RestorePlan.CreateAsync(context, backup, options.RestoreOptions, ct).ConfigureAwait(false);
        return new PitrPlan(backup, restore, covering, file, position, newest, options);
    }

    private static (string File, long Position) Coordinates(BackupInfo backup)
    {
        var file = (string?)backup.Manifest!.Source["binlogFile"]
            ?? throw new EcomDrException(ErrorIds.ManifestInvalid, FailureKind.InvalidData, $"Backup {backup.Id} records no binlog coordinates.", backup.Id);
        return (file, (long)backup.Manifest.Source["binlogPosition"]!);
    }

    /// <summary>Whether a full backup holds nothing past the stop point, so replay from it can reach the point.</summary>
    private static bool Precedes(BackupInfo backup, PitrOptions options)
    {
        if (options.TargetTime is { } t)
        {
            return (backup.Completed ?? backup.Created) <= t;
        }

        if (options.StopBeforeGtid is { } gtid)
        {
            return GtidSets.Contains((string?)backup.Manifest!.Source["gtidSet"] ?? "", gtid) != true;
        }

        if (options.StopAtPosition is { } stop && backup.Manifest!.Source["binlogFile"] is not null)
        {
            var (file, position) = Coordinates(backup);
            return !BinlogReplayer.IsAtOrAfter(file, position, stop) || (file == stop.File && position == stop.Position);
        }

        return true;
    }

    /// <summary>Whether the shipped binlog goes as far as the stop point.</summary>
    private static bool Reaches(IReadOnlyList<BinlogSegment> covering, DateTimeOffset? newest, PitrOptions options)
    {
        if (options.TargetTime is { } target)
        {
            return newest is not null && newest >= target;
        }

        if (options.StopBeforeGtid is { } gtid)
        {
            // The transaction must have been shipped: MariaDB sequence numbers grow within a domain, MySQL's per server UUID.
            var last = covering.Select(s => s.LastGtid).Where(g => g.Length > 0).ToList();
            if (GtidSets.MariaDb(gtid) is { } g)
            {
                return last.Select(GtidSets.MariaDb).Any(l => l is { } x && x.Domain == g.Domain && x.Sequence >= g.Sequence);
            }

            var uuid = gtid[..Math.Max(0, gtid.LastIndexOf(':'))];
            var mine = last.Where(l => l.StartsWith(uuid + ":", StringComparison.OrdinalIgnoreCase)).ToList();
            return mine.Count == 0 || mine.Any(l => GtidSets.Contains(l.Replace(":", ":1-", StringComparison.Ordinal), gtid) == true);
        }

        if (options.StopAtPosition is { } stop)
        {
            return BinlogReplayer.IsAtOrAfter(covering[^1].File, covering[^1].EndOffset, stop);
        }

        return true;
    }

    /// <summary>Restores and replays; <c>afterFullRestore</c> runs in between (a drill checks the restored backup there).</summary>
    public static async Task<PitrResult> RunAsync(RepositoryContext context, PitrPlan plan, MySqlEndpoint target, IProgress<RestoreProgress>? restoreProgress,
        IProgress<ReplayProgress>? replayProgress, CancellationToken ct, Func<CancellationToken, Task>? afterFullRestore = null)
    {
        var total = Stopwatch.StartNew();
        var options = plan.Options;
        await MySqlRestorer.CheckTargetAsync(target, plan.Restore, options.RestoreOptions.Force, ct).ConfigureAwait(false);
        var schemas = plan.Restore.SchemaMap.Values.Distinct().ToList();
        await RestoreMarker.BeginAsync(target, schemas, plan.Backup.Id, "point-in-time recovery", ct).ConfigureAwait(false);
        ReplayProgress? reached = null; // where a cancelled or failed replay got to, for the record
        var tracking = new Tracker(p =>
        {
            reached = p;
            replayProgress?.Report(p);
        });
        try
        {
            await MySqlRestorer.LoadAsync(context, plan.Restore, target, options.RestoreOptions, restoreProgress, ct).ConfigureAwait(false);
            var restored = total.Elapsed;
            if (afterFullRestore is not null)
            {
                await afterFullRestore(ct).ConfigureAwait(false);
            }

            var replay = await BinlogReplayer.ReplayAsync(target, SegmentEvents.ReadAsync(context, plan.Segments, plan.BinlogFile, plan.BinlogPosition, ct),
                ReplayOptionsOf(plan), tracking, ct).ConfigureAwait(false);
            var result = ResultOf(plan, target.Display, replay, restored, total.Elapsed);
            await RestoreMarker.FinishAsync(target, schemas, RestoreMarker.Complete, $"{result.LastPosition} {result.LastGtid}".Trim(), result.StoppedBecause).ConfigureAwait(false);
            return result;
        }
        catch (Exception ex)
        {
            var where = reached is { } r ? $"{r.File}:{r.Position}" : "full restore";
            var why = ex is OperationCanceledException ? "cancelled" : ex.Message;
            await RestoreMarker.FinishAsync(target, schemas, RestoreMarker.Incomplete, where,
                reached is { } at ? $"{why} after {at.Transactions} transaction(s), binlog time {at.BinlogTime:u}" : why).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Reports on the replaying thread (no synchronization context), so the last position is always the latest.</summary>
    private sealed class Tracker(Action<ReplayProgress> report) : IProgress<ReplayProgress>
    {
        public void Report(ReplayProgress value) => report(value);
    }

    /// <summary>
    /// -OutputScriptOnly: writes the plan and the replay's SQL, as it would run, to a script for a
    /// second person to review. Nothing on any server changes. Written beside the path and moved into
    /// place at the end, so an interrupted run leaves no script that looks whole.
    /// </summary>
    public static async Task<PitrResult> WriteScriptAsync(RepositoryContext context, PitrPlan plan, string path, string targetDisplay, CancellationToken ct)
    {
        var total = Stopwatch.StartNew();
        var partial = path + ".partial";
        ReplayResult replay;
        try
        {
            await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                var script = new ScriptSink(file);
                var backup = plan.Backup;
                await script.CommentAsync(string.Join("\n",
                    $"EcomDr point-in-time recovery script, written {DateTimeOffset.UtcNow:u} for review; nothing was run.",
                    $"Target: {targetDisplay}",
                    $"Plan: {plan.Describe()}.",
                    "",
                    $"Step 1 (not in this script): restore full backup {backup.Id} (taken {backup.Created:u}, coordinates {backup.Coordinates}),",
                    $"  {plan.Restore.Describe()}, as Restore-MySqlDatabase does; its artifacts are checked against their signed SHA-256 as they stream.",
                    $"Step 2: the statements below replay the shipped binlog from {plan.BinlogFile}:{plan.BinlogPosition}, {plan.Segments.Count} segment(s):",
                    string.Join("\n", plan.Segments.Select(s => $"  {s} {s.FirstGtid}..{s.LastGtid} ({s.Id})")),
                    ""), ct).ConfigureAwait(false);
                await script.BeginAsync(ct).ConfigureAwait(false);
                replay = await BinlogReplayer.ReplayAsync(script, SegmentEvents.ReadAsync(context, plan.Segments, plan.BinlogFile, plan.BinlogPosition, ct),
                    ReplayOptionsOf(plan), null, ct).ConfigureAwait(false);
                await script.EndAsync(ct).ConfigureAwait(false);
                await script.CommentAsync($"Replay stops {replay.StoppedBecause}: {replay.Transactions} transaction(s), the last {replay.LastGtid} ending at {replay.LastFile}:{replay.LastPosition}, committed {replay.LastCommitTime:u}.", ct).ConfigureAwait(false);
            }

            File.Move(partial, path, overwrite: true);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }

        return ResultOf(plan, $"script {path}", replay, TimeSpan.Zero, total.Elapsed);
    }

    private static ReplayOptions ReplayOptionsOf(PitrPlan plan)
    {
        // Into a renamed schema (beside the live one) the original GTIDs would collide with the live server's own.
        var options = plan.Options;
        var renamed = plan.Restore.SchemaMap.Any(m => m.Key != m.Value);
        return new ReplayOptions(options.TargetTime, options.StopBeforeGtid, options.StopAtPosition, plan.Restore.SchemaMap,
            options.PreserveGtids ?? !renamed, options.RestoreOptions.NoBinlog);
    }

    private static PitrResult ResultOf(PitrPlan plan, string target, ReplayResult replay, TimeSpan restored, TimeSpan elapsed)
    {
        var options = plan.Options;
        double? rpo = options.TargetTime is { } t && replay.LastCommitTime is { } last ? Math.Max(0, (t - last).TotalSeconds) : null;
        return new PitrResult(plan.Backup.Id, target, plan.Restore.SchemaMap, options.Describe(), replay.LastGtid,
            replay.LastFile.Length > 0 ? $"{replay.LastFile}:{replay.LastPosition}" : $"{plan.BinlogFile}:{plan.BinlogPosition}", replay.LastCommitTime,
            replay.Transactions, replay.Events, replay.StoppedBecause, restored, replay.Elapsed, elapsed, rpo);
    }
}
