using System.Diagnostics;
using System.Globalization;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Load;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>What a point-in-time recovery restores, and where it stops.</summary>
public sealed record PitrOptions(
    DateTimeOffset? TargetTime = null,
    string? StopBeforeGtid = null,
    BinlogCoordinate? StopAtPosition = null,
    string? BackupId = null,
    RestoreOptions? Restore = null,
    bool AllowPartial = false,
    bool? PreserveGtids = null,
    IReadOnlyCollection<string>? SkipGtids = null,
    long TransactionMemory = BinlogReplayer.DefaultTransactionMemory)
{
    public RestoreOptions RestoreOptions => Restore ?? new RestoreOptions();

    public string Describe() =>
        TargetTime is { } t ? $"the last transaction committed at or before {(t.Millisecond == 0 && t.Microsecond == 0 ? t.ToString("u", CultureInfo.InvariantCulture) : t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffffZ", CultureInfo.InvariantCulture))}"
        : StopBeforeGtid is { } g ? $"right before GTID {g}"
        : StopAtPosition is { } p ? $"the last transaction ending at or before {p}"
        : "the newest shipped transaction";

    /// <summary>
    /// Stops right before the transaction of an event Find-BinlogEvent found: by its GTID, or by where
    /// that transaction starts when the source runs without GTIDs (the end of the one before it).
    /// </summary>
    public PitrOptions StoppingBefore(FoundBinlogEvent found) =>
        found.Gtid.Length > 0 && found.Gtid != "ANONYMOUS"
            ? this with { StopBeforeGtid = found.Gtid, StopAtPosition = null, TargetTime = null }
            : this with { StopAtPosition = new BinlogCoordinate(found.File, found.TransactionPosition), StopBeforeGtid = null, TargetTime = null };

    /// <summary>The requested stop point as the user wrote it, for error messages.</summary>
    public string Point => TargetTime?.ToString("O", CultureInfo.InvariantCulture) ?? StopBeforeGtid ?? (StopAtPosition?.ToString() ?? "latest");
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
    double? AchievedRpoSeconds,
    IReadOnlyList<SkippedStatement> Skipped,
    long ForeignTransactions,
    bool GtidsKept,
    string? GtidNote,
    string ReplayMode = "serial",
    int ReplayThreads = 1,
    double ReplayConcurrency = 1,
    long ReplayRetries = 0);

/// <summary>
/// Restore-MySqlPitr's engine: picks the newest full backup before the target, proves the shipped
/// binlog continuous from its coordinates (and reaching the target), then restores it and replays.
/// Everything is checked before the target server is touched.
/// </summary>
public static class PitrRestorer
{

    public static async Task<PitrPlan> PlanAsync(RepositoryContext context, PitrOptions options, CancellationToken ct)
    {
        CheckStopPoint(options);
        var backups = (await BackupCatalog.ListAsync(context, DumpOptions.Kind, ct).ConfigureAwait(false)).Where(b => b.Status == BackupStatus.Complete).ToList();
        BackupInfo? backup;
        if (options.BackupId is { } id)
        {
            backup = backups.FirstOrDefault(b => b.Id == id)
                ?? throw new EcomDrException(ErrorIds.BackupNotFound, FailureKind.ObjectNotFound, $"No complete full backup {id} in {context.Store.Name}.", id);
            if (!Precedes(backup, options))
            {
                throw new EcomDrException(ErrorIds.TargetNotReachable, FailureKind.InvalidArgument,
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

        var (covering, file, position, newest) = await CoverAsync(context, backup, options, ct).ConfigureAwait(false);
        var restore = await RestorePlan.CreateAsync(context, backup, options.RestoreOptions, ct).ConfigureAwait(false);
        return new PitrPlan(backup, restore, covering, file, position, newest, options);
    }

    /// <summary>
    /// The shipped segments replay reads from a base backup's coordinates, proved continuous and, unless
    /// AllowPartial, reaching the stop point; the newest shipped event's time.
    /// </summary>
    internal static async Task<(IReadOnlyList<BinlogSegment> Covering, string File, long Position, DateTimeOffset? Newest)> CoverAsync(RepositoryContext context, BackupInfo backup,
        PitrOptions options, CancellationToken ct)
    {
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
            throw new EcomDrException(ErrorIds.BinlogGap, FailureKind.ResourceUnavailable,
                $"The shipped binlog is not continuous from backup {backup.Id} at {file}:{position}: {why}. Nothing was changed.", backup.Id);
        }

        if (options.StopAtPosition is { } stop)
        {
            CheckShippedPosition(chain, stop, new BinlogCoordinate(file, position));
        }

        var newest = covering.LastOrDefault(s => s.LastEventTime is not null)?.LastEventTime;
        if (!Reaches(covering, newest, options) && !options.AllowPartial)
        {
            var last = covering.LastOrDefault(s => s.LastGtid.Length > 0);
            throw new EcomDrException(ErrorIds.TargetNotReachable, FailureKind.InvalidArgument,
                $"The shipped binlog ends before {options.Describe()} (newest shipped event at {newest:u}): the best reachable point is {covering[^1].File}:{covering[^1].EndOffset} ({last?.LastGtid ?? "no GTID"}). " +
                "Ship the binlog first (Send-Binlog), or use -AllowPartial to restore to that point. Nothing was changed.",
                options.TargetTime?.ToString("O") ?? options.StopBeforeGtid ?? options.StopAtPosition?.ToString() ?? "");
        }

        return (covering, file, position, newest);
    }

    /// <summary>Refuses a stop point that is not one, before anything is read or changed, naming the bad value.</summary>
    internal static void CheckStopPoint(PitrOptions options)
    {
        var given = new[] { options.TargetTime is not null, options.StopBeforeGtid is not null, options.StopAtPosition is not null }.Count(x => x);
        if (given > 1)
        {
            throw new EcomDrException(ErrorIds.InvalidStopPoint, FailureKind.InvalidArgument, "Give one stop point: a target time, a GTID or a position. Nothing was changed.", options.Point);
        }

        if (options.StopBeforeGtid is { } gtid && !GtidSets.IsGtid(gtid))
        {
            throw new EcomDrException(ErrorIds.InvalidStopPoint, FailureKind.InvalidArgument,
                $"'{gtid}' is not a GTID: MariaDB writes domain-server-sequence (0-1-42), MySQL server_uuid:number (3e11fa47-71ca-11e1-9e33-c80aa9429562:23) or, from 8.3, server_uuid:tag:number. Nothing was changed.",
                gtid);
        }

        foreach (var skip in options.SkipGtids ?? Array.Empty<string>())
        {
            if (!GtidSets.IsGtid(skip))
            {
                throw new EcomDrException(ErrorIds.InvalidStopPoint, FailureKind.InvalidArgument, $"-SkipGtid '{skip}' is not a GTID (domain-server-sequence, or server_uuid[:tag]:number). Nothing was changed.", skip);
            }
        }

        if (options.StopAtPosition is { } p && (p.File.Length == 0 || p.Position < 4))
        {
            throw new EcomDrException(ErrorIds.InvalidStopPoint, FailureKind.InvalidArgument,
                $"'{p}' is not a binlog position: give file:position, the file as the server names it (binlog.000042), the position 4 or more. Nothing was changed.", p.ToString());
        }
    }

    /// <summary>A stop position must be in a file the chain holds, within what was shipped of it, and not before the backup.</summary>
    private static void CheckShippedPosition(BinlogChain chain, BinlogCoordinate stop, BinlogCoordinate backup)
    {
        var segments = chain.Current.Where(s => s.File == stop.File).ToList();
        if (segments.Count == 0)
        {
            var files = chain.Current.Select(s => s.File).Distinct().ToList();
            throw new EcomDrException(ErrorIds.InvalidStopPoint, FailureKind.InvalidArgument,
                $"'{stop}' names a file that was never shipped; the shipped chain holds {(files.Count == 0 ? "no file" : $"{files[0]} to {files[^1]}")}. Nothing was changed.",
                stop.ToString());
        }

        var end = segments.Max(s => s.EndOffset);
        if (stop.Position > end)
        {
            throw new EcomDrException(ErrorIds.TargetNotReachable, FailureKind.InvalidArgument,
                $"'{stop}' lies past what was shipped of {stop.File} (up to {end}). Ship the binlog first (Send-Binlog). Nothing was changed.", stop.ToString());
        }

        if (stop < backup)
        {
            throw new EcomDrException(ErrorIds.InvalidStopPoint, FailureKind.InvalidArgument,
                $"'{stop}' lies before the backup's coordinates {backup}; pick an older backup with -Backup. Nothing was changed.", stop.ToString());
        }
    }

    private static BinlogCoordinate Coordinates(BackupInfo backup) =>
        BinlogChain.CoordinateOf(backup)
        ?? throw new EcomDrException(ErrorIds.ManifestInvalid, FailureKind.InvalidData, $"Backup {backup.Id} records no binlog coordinates.", backup.Id);

    /// <summary>Whether a full backup holds nothing past the stop point, so replay from it can reach the point.</summary>
    internal static bool Precedes(BackupInfo backup, PitrOptions options)
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
            return Coordinates(backup) <= stop;
        }

        return true;
    }

    /// <summary>Whether the shipped binlog goes as far as the stop point.</summary>
    internal static bool Reaches(IReadOnlyList<BinlogSegment> covering, DateTimeOffset? newest, PitrOptions options)
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
            return new BinlogCoordinate(covering[^1].File, covering[^1].EndOffset) >= stop;
        }

        return true;
    }

    /// <summary>
    /// Restores and replays; <c>afterFullRestore</c> runs in between (a drill checks the restored backup
    /// there). With VerifyFirst every artifact is checked before the target is touched; a failure or a
    /// cancellation removes what the recovery created, unless KeepFailed, and the record says why.
    /// </summary>
    public static async Task<PitrResult> RunAsync(RepositoryContext context, PitrPlan plan, MySqlEndpoint target, IProgress<RestoreProgress>? restoreProgress,
        IProgress<ReplayProgress>? replayProgress, CancellationToken ct, Func<CancellationToken, Task>? afterFullRestore = null)
    {
        var total = Stopwatch.StartNew();
        var options = plan.Options;
        var restoreOptions = options.RestoreOptions;
        // Retention keeps what this recovery reads until it ends.
        await using var lease = await ReadLease.TakeAsync(context, plan.Segments.Select(s => s.Backup).Prepend(plan.Backup), $"point-in-time recovery from {plan.Backup.Id}", ct)
            .ConfigureAwait(false);
        await MySqlRestorer.CheckTargetAsync(target, plan.Restore, restoreOptions.Force, ct).ConfigureAwait(false);
        await MySqlRestorer.VerifyFirstAsync(context, plan.Restore, plan.Segments.Select(s => s.Backup), restoreOptions, restoreProgress, ct).ConfigureAwait(false);
        var replayOptions = ReplayOptionsOf(plan);
        string? past = null;
        if (replayOptions.PreserveGtids && options.PreserveGtids is null
            && (past = await TargetGtids.PastBackupAsync(target, (string?)plan.Backup.Manifest!.Source["gtidSet"] ?? "", ct).ConfigureAwait(false)) is not null)
        {
            replayOptions = replayOptions with { PreserveGtids = false };
        }

        var schemas = plan.Restore.SchemaMap.Values.Distinct().ToList();
        await using var relaxed = restoreOptions.FastTarget ? await RelaxedDurability.ApplyAsync(target, schemas, ct).ConfigureAwait(false) : null;
        var guard = await RestoreGuard.CaptureAsync(target, schemas, ct).ConfigureAwait(false);
        await RestoreMarker.BeginAsync(target, schemas, plan.Backup.Id, "point-in-time recovery", ct).ConfigureAwait(false);
        ReplayProgress? reached = null; // where a cancelled or failed replay got to, for the record
        var tracking = new Tracker(p =>
        {
            reached = p;
            replayProgress?.Report(p);
        });
        try
        {
            await MySqlRestorer.LoadAsync(context, plan.Restore, target, restoreOptions, restoreProgress, ct).ConfigureAwait(false);
            var restored = total.Elapsed;
            if (afterFullRestore is not null)
            {
                await afterFullRestore(ct).ConfigureAwait(false);
            }

            var replay = await BinlogReplayer.ReplayAsync(target, SegmentEvents.ReadAsync(context, plan.Segments, plan.BinlogFile, plan.BinlogPosition, ct),
                replayOptions, tracking, ct).ConfigureAwait(false);
            var result = ResultOf(plan, target.Display, replay, restored, total.Elapsed, replayOptions.PreserveGtids,
                past is null ? null : $"the target already holds GTID {past}, past the backup (it is the source, or an earlier recovery wrote to it): transactions got the target's own GTIDs");
            await RestoreMarker.FinishAsync(target, schemas, RestoreMarker.Complete, $"{result.LastPosition} {result.LastGtid}".Trim(), result.StoppedBecause).ConfigureAwait(false);
            return result;
        }
        catch (Exception ex)
        {
            var where = reached is { } r ? $"{r.File}:{r.Position}" : "full restore";
            var why = ex is OperationCanceledException ? "cancelled" : ex.Message;
            // A replay failure tells its own count; anything else gets where replay had got to, once.
            var told = ex is EcomDrException { ErrorId: ErrorIds.ReplayFailed };
            var error = await MySqlRestorer.FailedAsync(target, schemas, guard, restoreOptions, where,
                reached is { } at && !told ? $"{why} after {at.Transactions} transaction(s), binlog time {at.BinlogTime:u}." : why, ex).ConfigureAwait(false);
            if (ReferenceEquals(error, ex))
            {
                throw;
            }

            throw error;
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
        await using var lease = await ReadLease.TakeAsync(context, plan.Segments.Select(s => s.Backup).Prepend(plan.Backup), $"recovery script from {plan.Backup.Id}", ct)
            .ConfigureAwait(false);
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

        return ResultOf(plan, $"script {path}", replay, TimeSpan.Zero, total.Elapsed, ReplayOptionsOf(plan).PreserveGtids, null);
    }

    private static ReplayOptions ReplayOptionsOf(PitrPlan plan)
    {
        // Into a renamed schema (beside the live one) the original GTIDs would collide with the live server's own.
        var options = plan.Options;
        var renamed = plan.Restore.SchemaMap.Any(m => m.Key != m.Value);
        // -ThreadCount sets the load's connections and the replay's; 1 keeps replay serial.
        var threads = options.RestoreOptions.ThreadCount > 0 ? options.RestoreOptions.ThreadCount : ReplayOptions.DefaultThreadCount;
        return new ReplayOptions(options.TargetTime, options.StopBeforeGtid?.Trim(), options.StopAtPosition, plan.Restore.SchemaMap,
            options.PreserveGtids ?? !renamed, options.RestoreOptions.NoBinlog, options.SkipGtids, options.TransactionMemory, plan.Restore.OutsideTables, threads);
    }

    /// <summary>
    /// The result. AchievedRpo is the time between the requested point and the newest change restored:
    /// the target time; for a GTID, event or position stop, the commit of the transaction replay stopped
    /// before; for -ToLatest (or a shorter shipped binlog), the newest shipped event. The newest change
    /// restored is the last replayed commit, or the backup's own time when nothing was replayed.
    /// </summary>
    private static PitrResult ResultOf(PitrPlan plan, string target, ReplayResult replay, TimeSpan restored, TimeSpan elapsed, bool gtidsKept, string? gtidNote)
    {
        var options = plan.Options;
        var point = options.TargetTime is { } t && (plan.NewestShippedEvent is null || t <= plan.NewestShippedEvent) ? t
            : replay.NextCommitTime ?? plan.NewestShippedEvent;
        var newest = replay.LastCommitTime ?? plan.Backup.Completed ?? plan.Backup.Created;
        double? rpo = point is { } p ? Math.Round(Math.Max(0, (p - newest).TotalSeconds), 3) : null;
        return new PitrResult(plan.Backup.Id, target, plan.Restore.SchemaMap, options.Describe(), replay.LastGtid,
            replay.LastFile.Length > 0 ? $"{replay.LastFile}:{replay.LastPosition}" : $"{plan.BinlogFile}:{plan.BinlogPosition}", replay.LastCommitTime,
            replay.Transactions, replay.Events, replay.StoppedBecause, restored, replay.Elapsed, elapsed, rpo, replay.Skipped, replay.ForeignTransactions, gtidsKept, gtidNote,
            replay.Mode, replay.Threads, replay.AverageConcurrency, replay.Retries);
    }
}
