using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// What a replay has done so far, where it stops, and the GTIDs of what it left out. A transaction
/// left out keeps its GTID on the target when GTIDs are kept, so the target's GTID state is the
/// source's: on MySQL as an empty transaction (the standard way to consume a GTID); on MariaDB, whose
/// state is the last GTID of each domain and where an empty transaction is not logged, the last one
/// left out of a domain, when nothing after it was applied, is consumed at the end by a no-op
/// statement in EcomDr's own schema.
/// </summary>
internal sealed class ReplayState(ReplayOptions options)
{
    private readonly Dictionary<uint, (GtidInfo Gtid, ulong LastApplied)> _mariaLeftOut = new();
    private readonly Dictionary<uint, ulong> _mariaApplied = new();
    private readonly object _gate = new(); // parallel replay's workers report commits from their threads, in order
    private DateTimeOffset _notBefore = DateTimeOffset.MinValue;

    public long Transactions { get; private set; }

    public long Events { get; set; }

    public long ForeignTransactions { get; set; }

    public string LastGtid { get; private set; } = "";

    public string LastFile { get; private set; } = "";

    public long LastPosition { get; private set; }

    public DateTimeOffset? LastCommitTime { get; private set; }

    public DateTimeOffset? NextCommitTime { get; set; }

    public string Stopped { get; set; } = "end of the shipped binlog";

    public List<SkippedStatement> Skipped { get; } = new();

    /// <summary>XA transactions replay prepared and whose XA COMMIT it has not reached: XID as written, and which transaction.</summary>
    public Dictionary<string, (string Xid, string Where, bool MariaDb)> Prepared { get; } = new();

    /// <summary>XA transactions of other schemas, prepared on the source: their completion is left out too.</summary>
    public HashSet<string> Foreign { get; } = new();

    /// <summary>Why replay stops before this transaction, or null to go on (docs/pitr.md, "Stop points").</summary>
    public string? StopBefore(BinlogTransaction transaction)
    {
        if (options.StopBeforeGtid is { } gtid && transaction.GtidText is { } g && g.Equals(gtid, StringComparison.OrdinalIgnoreCase))
        {
            return $"before GTID {gtid}";
        }

        if (options.StopAtPosition is { } stop && new BinlogCoordinate(transaction.EndFile, transaction.EndPosition) > stop)
        {
            return $"at {stop}";
        }

        if (options.TargetTime is { } target && transaction.CommitTime is { } recorded)
        {
            return PastTarget(transaction, recorded, target);
        }

        return null;
    }

    /// <summary>
    /// Whether a transaction may have committed after the target time. Binlog order is commit order, so
    /// it committed no earlier than the latest time recorded by it or anything before it (a long
    /// statement is logged with its start, but after everything that committed while it ran). It is
    /// applied only when it is known to have committed at or before the target: exactly, by the end of
    /// the second (the second after a start with microseconds) in which that latest time lies, or by the
    /// time the segment holding it was stored.
    /// </summary>
    private string? PastTarget(BinlogTransaction transaction, DateTimeOffset recorded, DateTimeOffset target)
    {
        _notBefore = recorded > _notBefore ? recorded : _notBefore;
        if (_notBefore > target)
        {
            return $"target time {target:O} reached";
        }

        var by = transaction.CommitPrecision switch
        {
            CommitPrecision.Exact => _notBefore,
            CommitPrecision.Microsecond => _notBefore.AddSeconds(1),
            _ => _notBefore.AddTicks(-(_notBefore.Ticks % TimeSpan.TicksPerSecond)).AddSeconds(1),
        };
        // A segment stored before the target holds only what committed before it (clocks kept in step, as NTP does).
        if (by <= target || transaction.ShippedBy is { } shipped && shipped >= _notBefore && shipped <= target)
        {
            return null;
        }

        return $"target time {target:O} reached: {transaction.Describe()} may have committed after it (the binlog records {_notBefore:yyyy-MM-dd HH:mm:ss.FFFFFF}Z, " +
            $"{(transaction.CommitPrecision == CommitPrecision.Second ? "to the second" : "a statement's start")}, so it committed before {by:yyyy-MM-dd HH:mm:ss.FFFFFF}Z{(transaction.ShippedBy is { } s ? $", and was shipped in a segment stored at {s:yyyy-MM-dd HH:mm:ss.FFFFFF}Z" : "")}); " +
            $"it is left out, with everything after it. -StopAtPosition {transaction.EndFile}:{transaction.EndPosition} includes it";
    }

    public void Applied(BinlogTransaction transaction)
    {
        lock (_gate)
        {
            AppliedLocked(transaction);
        }
    }

    private void AppliedLocked(BinlogTransaction transaction)
    {
        Transactions++;
        LastGtid = transaction.GtidText ?? LastGtid;
        LastFile = transaction.EndFile;
        LastPosition = transaction.EndPosition;
        LastCommitTime = transaction.CommitTime ?? LastCommitTime;
        if (transaction.IsMariaDb && transaction.Gtid is { } g)
        {
            _mariaApplied[g.Domain] = g.Sequence;
        }
    }

    public void Note(BinlogTransaction transaction, string reason) =>
        Skipped.Add(new SkippedStatement(transaction.GtidText ?? "", transaction.Start, reason, ""));

    /// <summary>Whether leaving the transaction out runs a statement (MySQL's empty transaction under its GTID).</summary>
    public bool LeaveOutWrites(BinlogTransaction transaction) =>
        options.PreserveGtids && !options.NoBinlog && transaction.Gtid is { Anonymous: false } && !transaction.IsMariaDb;

    /// <summary>Leaves a transaction out, keeping its GTID on the target when GTIDs are kept.</summary>
    public async Task LeaveOutAsync(ReplaySession session, BinlogTransaction transaction, CancellationToken ct)
    {
        if (!options.PreserveGtids || options.NoBinlog || transaction.Gtid is not { Anonymous: false } gtid)
        {
            return;
        }

        if (transaction.IsMariaDb)
        {
            lock (_gate)
            {
                _mariaLeftOut[gtid.Domain] = (gtid, _mariaApplied.GetValueOrDefault(gtid.Domain));
            }

            return;
        }

        await session.SetGtidAsync(transaction, ct).ConfigureAwait(false);
        await session.ExecuteAsync("BEGIN; COMMIT", ct).ConfigureAwait(false);
        await session.ResetGtidAsync(transaction, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// At the stop point: the last GTID left out of each MariaDB domain is consumed when nothing after
    /// it was applied, then XA transactions prepared but not committed by the stop point are rolled
    /// back (the source had not committed them either), under the target's own GTIDs.
    /// </summary>
    public async Task FinishAsync(ReplaySession session, CancellationToken ct)
    {
        foreach (var (domain, (gtid, _)) in _mariaLeftOut)
        {
            if (_mariaApplied.GetValueOrDefault(domain) < gtid.Sequence)
            {
                await session.ExecuteAsync($"SET @@session.gtid_domain_id={gtid.Domain}; SET @@session.server_id={gtid.ServerId}; SET @@session.gtid_seq_no={gtid.Sequence}", ct)
                    .ConfigureAwait(false);
                await session.ExecuteAsync("DROP TABLE IF EXISTS `ecomdr`.`gtid_kept`", ct).ConfigureAwait(false);
            }
        }

        if (_mariaLeftOut.Count > 0)
        {
            await session.OwnGtidsAsync(mariaDb: true, ct).ConfigureAwait(false);
        }

        foreach (var (xid, where, mariaDb) in Prepared.Values)
        {
            await session.OwnGtidsAsync(mariaDb, ct).ConfigureAwait(false);
            await session.ExecuteAsync($"XA ROLLBACK {xid}", ct).ConfigureAwait(false);
            Skipped.Add(new SkippedStatement("", where, $"XA transaction {xid} was prepared, not committed, at the stop point: rolled back on the target, as uncommitted on the source", ""));
        }
    }

    /// <summary>
    /// After a failure: the XA transactions replay prepared are rolled back, so no prepared transaction
    /// of a failed recovery holds its locks (they outlive the session that prepared them).
    /// </summary>
    public async Task ReleaseAsync(ReplaySession session)
    {
        foreach (var (xid, _, _) in Prepared.Values)
        {
            try
            {
                await session.ExecuteAsync($"ROLLBACK; XA ROLLBACK {xid}", CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is Wire.WireServerException or IOException or InvalidOperationException)
            {
                // the connection is gone: the transaction stays prepared; XA RECOVER lists it
            }
        }

        Prepared.Clear();
    }

    public ReplayResult Result(TimeSpan elapsed, ParallelApplier? parallel) =>
        new(Transactions, Events, LastGtid, LastFile, LastPosition, LastCommitTime, Stopped, elapsed, Skipped, ForeignTransactions, NextCommitTime,
            parallel?.Threads ?? 1, parallel?.Transactions ?? 0, parallel?.AverageConcurrency ?? 1, parallel?.Retries ?? 0);
}
