using System.Diagnostics;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>A recovery that starts from a volume snapshot: the snapshot's backup, the shipped segments from its coordinates, the stop point.</summary>
public sealed record SnapshotPitrPlan(BackupInfo Snapshot, IReadOnlyList<BinlogSegment> Segments, string BinlogFile, long BinlogPosition, DateTimeOffset? NewestShippedEvent,
    PitrOptions Options, IReadOnlyList<string> Schemas)
{
    public string Describe() =>
        $"replay {Segments.Count} shipped binlog segment(s) from volume snapshot {Snapshot.Id}'s coordinates {BinlogFile}:{BinlogPosition} " +
        $"into the server started on it ({string.Join(", ", Schemas)}), up to {Options.Describe()}";
}

/// <summary>
/// Restore-MySqlPitr -FromSnapshot's engine. A server was started on the restored volume (InnoDB's crash
/// recovery has run); its GTID state must be the snapshot's, or it was started from another snapshot or
/// written to since (EcomDr.SnapshotStateMismatch, nothing replayed). Then the shipped binlog is replayed
/// natively from the snapshot's coordinates, the original GTIDs kept: no logical restore at all.
/// </summary>
public static class SnapshotPitr
{
    public static async Task<SnapshotPitrPlan> PlanAsync(RepositoryContext context, string snapshotId, PitrOptions options, CancellationToken ct)
    {
        PitrRestorer.CheckStopPoint(options);
        var snapshot = (await BackupCatalog.ListAsync(context, BackupKinds.MySqlSnapshot, ct).ConfigureAwait(false))
            .FirstOrDefault(b => b.Id == snapshotId && b.Status == BackupStatus.Complete)
            ?? throw new EcomDrException(ErrorIds.BackupNotFound, FailureKind.ObjectNotFound, $"No complete volume snapshot (mysql-snapshot) {snapshotId} in {context.Store.Name}.", snapshotId);
        if (!PitrRestorer.Precedes(snapshot, options))
        {
            throw new EcomDrException(ErrorIds.TargetNotReachable, FailureKind.InvalidArgument,
                $"Volume snapshot {snapshotId} ({snapshot.Coordinates}) was taken after {options.Describe()}: it already holds what should not be restored. Pick an older base. Nothing was changed.",
                snapshotId);
        }

        var (covering, file, position, newest) = await PitrRestorer.CoverAsync(context, snapshot, options, ct).ConfigureAwait(false);
        var schemas = (snapshot.Source["schemas"] as System.Text.Json.Nodes.JsonArray ?? new System.Text.Json.Nodes.JsonArray())
            .Select(s => (string?)s ?? "").Where(s => s.Length > 0).ToList();
        return new SnapshotPitrPlan(snapshot, covering, file, position, newest, options, schemas);
    }

    /// <summary>The newest complete volume snapshot that is a base for the stop point, or null.</summary>
    public static async Task<BackupInfo?> NewestBaseAsync(RepositoryContext context, PitrOptions options, CancellationToken ct)
    {
        PitrRestorer.CheckStopPoint(options);
        return (await BackupCatalog.ListAsync(context, BackupKinds.MySqlSnapshot, ct).ConfigureAwait(false))
            .Where(b => b.Status == BackupStatus.Complete && PitrRestorer.Precedes(b, options)).OrderBy(b => b.Created).LastOrDefault();
    }

    public static async Task<PitrResult> RunAsync(RepositoryContext context, SnapshotPitrPlan plan, MySqlEndpoint target, IProgress<ReplayProgress>? progress, CancellationToken ct)
    {
        var total = Stopwatch.StartNew();
        await using var lease = await ReadLease.TakeAsync(context, plan.Segments.Select(s => s.Backup).Prepend(plan.Snapshot), $"point-in-time recovery from volume snapshot {plan.Snapshot.Id}", ct)
            .ConfigureAwait(false);
        var expected = (string?)plan.Snapshot.Source["gtidSet"] ?? "";
        await CheckStateAsync(target, plan.Snapshot.Id, expected, ct).ConfigureAwait(false);

        var options = plan.Options;
        var threads = options.RestoreOptions.ThreadCount > 0 ? options.RestoreOptions.ThreadCount : ReplayOptions.DefaultThreadCount;
        var replayOptions = new ReplayOptions(options.TargetTime, options.StopBeforeGtid?.Trim(), options.StopAtPosition, plan.Schemas.ToDictionary(s => s, s => s),
            options.PreserveGtids ?? true, options.RestoreOptions.NoBinlog, options.SkipGtids, options.TransactionMemory, null, threads);
        var checkedAt = total.Elapsed;
        var replay = await BinlogReplayer.ReplayAsync(target, SegmentEvents.ReadAsync(context, plan.Segments, plan.BinlogFile, plan.BinlogPosition, ct), replayOptions, progress, ct)
            .ConfigureAwait(false);

        var point = options.TargetTime is { } t && (plan.NewestShippedEvent is null || t <= plan.NewestShippedEvent) ? t : replay.NextCommitTime ?? plan.NewestShippedEvent;
        var newestChange = replay.LastCommitTime ?? plan.Snapshot.Completed ?? plan.Snapshot.Created;
        double? rpo = point is { } p ? Math.Round(Math.Max(0, (p - newestChange).TotalSeconds), 3) : null;
        return new PitrResult(plan.Snapshot.Id, target.Display, plan.Schemas.ToDictionary(s => s, s => s), options.Describe(), replay.LastGtid,
            replay.LastFile.Length > 0 ? $"{replay.LastFile}:{replay.LastPosition}" : $"{plan.BinlogFile}:{plan.BinlogPosition}", replay.LastCommitTime, replay.Transactions,
            replay.Events, replay.StoppedBecause, checkedAt, replay.Elapsed, total.Elapsed, rpo, replay.Skipped, replay.ForeignTransactions, replayOptions.PreserveGtids,
            null, replay.Mode, replay.Threads, replay.AverageConcurrency, replay.Retries);
    }

    /// <summary>
    /// Whether a server holds exactly this snapshot's GTID state (it was started from it and not written
    /// to): Restore-MySqlPitr then starts from the snapshot without being asked. A snapshot without a
    /// GTID state proves nothing, so it never matches.
    /// </summary>
    public static async Task<bool> StartedFromAsync(MySqlEndpoint target, BackupInfo snapshot, CancellationToken ct)
    {
        var expected = (string?)snapshot.Source["gtidSet"] ?? "";
        return Normalized(expected).Length > 0 && Normalized(await GtidStateAsync(target, ct).ConfigureAwait(false)) == Normalized(expected);
    }

    private static async Task<string> GtidStateAsync(MySqlEndpoint target, CancellationToken ct)
    {
        await using var c = await MySqlConnections.OpenAsync(target, ct).ConfigureAwait(false);
        var facts = await ServerFacts.ReadAsync(c, ct).ConfigureAwait(false);
        return facts.Flavor == ServerFlavor.MariaDb
            ? await Sql.ScalarAsync(c, "SELECT @@GLOBAL.gtid_binlog_pos", ct).ConfigureAwait(false)
            : await Sql.ScalarAsync(c, "SELECT @@GLOBAL.gtid_executed", ct).ConfigureAwait(false);
    }

    /// <summary>The server must hold exactly the snapshot's GTID state: anything else was not started from it, or was written to.</summary>
    private static async Task CheckStateAsync(MySqlEndpoint target, string snapshotId, string expected, CancellationToken ct)
    {
        var actual = await GtidStateAsync(target, ct).ConfigureAwait(false);
        if (Normalized(actual) != Normalized(expected))
        {
            throw new EcomDrException(ErrorIds.SnapshotStateMismatch, FailureKind.InvalidData,
                $"{target.Display} holds GTID state '{actual}', volume snapshot {snapshotId} holds '{expected}': it was not started from that snapshot, was written to since, or lost the binlog's tail. Nothing was replayed.",
                target.Display);
        }
    }

    private static string Normalized(string set) =>
        string.Join(",", set.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.Replace("\n", "", StringComparison.Ordinal).ToLowerInvariant())
            .Order(StringComparer.Ordinal));
}
