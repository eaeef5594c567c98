namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// One replay in progress: the scope, the applier, the target session and the running state, and a
/// method for each thing a transaction can turn out to be (the stop point, never committed, skipped on
/// request, completing an XA transaction prepared elsewhere, another schema's, or one to apply).
/// </summary>
internal sealed class ReplayRun
{
    private readonly ReplayScope _scope;
    private readonly TransactionApplier _applier;
    private readonly ReplaySession _session;
    private readonly HashSet<string> _skip;
    private readonly IProgress<ReplayProgress>? _progress;

    public ReplayRun(IReplaySink target, ReplayOptions options, IProgress<ReplayProgress>? progress)
    {
        var map = options.SchemaMap ?? new Dictionary<string, string>();
        _scope = new ReplayScope(map, options.OutsideTables);
        _applier = new TransactionApplier(map, options);
        _session = new ReplaySession(target, options);
        _skip = (options.SkipGtids ?? Array.Empty<string>()).ToHashSet(StringComparer.OrdinalIgnoreCase);
        _progress = progress;
        State = new ReplayState(options);
    }

    public ReplayState State { get; }

    /// <summary>The transaction being decided or applied (for the failure message).</summary>
    public BinlogTransaction? Current { get; private set; }

    public Task PrepareAsync(CancellationToken ct) => _session.PrepareAsync(ct);

    /// <summary>Decides and replays one transaction; false when the replay stops before it.</summary>
    public async Task<bool> TakeAsync(BinlogTransaction transaction, CancellationToken ct)
    {
        Current = transaction;
        State.Events += transaction.Events.Count + (transaction.Gtid is null ? 0 : 1);
        if (StopsBefore(transaction))
        {
            return false;
        }

        switch (transaction.End)
        {
            case TransactionEnd.Unreadable:
                throw transaction.Unreadable!;
            case TransactionEnd.Abandoned:
                // Never committed on the source: its commit never reached the binlog.
                State.Note(transaction, "never committed on the source (the binlog holds it without its end)");
                return true;
        }

        if (transaction.GtidText is { } gtid && _skip.Contains(gtid))
        {
            State.Note(transaction, "skipped as -SkipGtid asked");
            await State.LeaveOutAsync(_session, transaction, ct).ConfigureAwait(false);
            return true;
        }

        var plan = await _scope.PlanAsync(transaction, ct).ConfigureAwait(false);
        State.Skipped.AddRange(plan.Skipped);
        if (plan.CompletesXid is { } xid && !State.Prepared.Remove(Xids.Normalize(xid)))
        {
            await CompleteUnreplayedXaAsync(transaction, xid, ct).ConfigureAwait(false);
        }
        else if (!plan.AppliesAnything)
        {
            await LeaveOutForeignAsync(transaction, ct).ConfigureAwait(false);
        }
        else
        {
            await ApplyAsync(transaction, plan, ct).ConfigureAwait(false);
        }

        return true;
    }

    public Task FinishAsync(CancellationToken ct) => State.FinishAsync(_session, ct);

    /// <summary>After a failure: releases what the replay holds and rolls the open transaction back.</summary>
    public async Task AbandonAsync()
    {
        await State.ReleaseAsync(_session).ConfigureAwait(false);
        await _session.RollbackQuietlyAsync().ConfigureAwait(false);
    }

    private bool StopsBefore(BinlogTransaction transaction)
    {
        if (transaction.End == TransactionEnd.CutOff)
        {
            State.Stopped = "end of the shipped binlog";
            return true;
        }

        if (State.StopBefore(transaction) is { } why)
        {
            State.Stopped = why;
            State.NextCommitTime = transaction.CommitTime;
            return true;
        }

        return false;
    }

    // Its prepare was not replayed: another schema's (nothing to complete), or before the start point.
    private Task CompleteUnreplayedXaAsync(BinlogTransaction transaction, string xid, CancellationToken ct)
    {
        if (!State.Foreign.Remove(Xids.Normalize(xid)))
        {
            State.Note(transaction, $"completes XA transaction {xid}, prepared before the replay's start point: the backup holds none of its changes");
        }

        return State.LeaveOutAsync(_session, transaction, ct);
    }

    private Task LeaveOutForeignAsync(BinlogTransaction transaction, CancellationToken ct)
    {
        if (transaction.PreparedXid is { } foreign)
        {
            State.Foreign.Add(Xids.Normalize(foreign));
        }

        State.ForeignTransactions++;
        return State.LeaveOutAsync(_session, transaction, ct);
    }

    private async Task ApplyAsync(BinlogTransaction transaction, TransactionPlan plan, CancellationToken ct)
    {
        if (transaction.PreparedXid is { } prepared)
        {
            State.Prepared[Xids.Normalize(prepared)] = (prepared, transaction.Describe(), transaction.IsMariaDb);
        }

        await _applier.ApplyAsync(_session, transaction, plan, ct).ConfigureAwait(false);
        State.Applied(transaction);
        _progress?.Report(new ReplayProgress(State.Transactions, State.Events, transaction.EndFile, transaction.EndPosition, transaction.CommitTime));
    }
}
