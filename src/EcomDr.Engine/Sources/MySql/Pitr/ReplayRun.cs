using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// One replay in progress: the scope, the applier, the target session and the running state, and a
/// method for each thing a transaction can turn out to be (the stop point, never committed, skipped on
/// request, completing an XA transaction prepared elsewhere, another schema's, or one to apply).
/// With several threads, a transaction that only applies row events of transactional tables goes to
/// the <see cref="ParallelApplier"/>; anything else (DDL, statements, XA, a big transaction, what
/// writes a GTID of its own) first waits until everything handed over has committed, then runs here alone.
/// </summary>
internal sealed class ReplayRun : IAsyncDisposable
{
    /// <summary>
    /// A transaction bigger than this runs alone: the server is busy with its rows anyway (a bulk load),
    /// computing its writeset would cost more than running beside it gains, and the workers' memory stays small.
    /// </summary>
    internal const long ParallelTransactionBytes = 64 << 10;

    private readonly ReplayScope _scope;
    private readonly TransactionApplier _applier;
    private readonly ReplaySession _session;
    private readonly HashSet<string> _skip;
    private readonly IProgress<ReplayProgress>? _progress;
    private readonly ReplayOptions _options;
    private readonly MySqlEndpoint? _endpoint;
    private readonly IReadOnlyDictionary<string, string> _map;
    private readonly CommitSchedule _schedule = new();
    private List<(BinlogTransaction Transaction, TransactionPlan Plan)> _batch = new();
    private long _batchAfter;
    private long _batchBytes;
    private ParallelApplier? _parallel;
    private WireConnection? _metadata;
    private TargetTables? _tables;

    /// <summary>An endpoint and more than one thread in the options make it parallel.</summary>
    public ReplayRun(IReplaySink target, ReplayOptions options, IProgress<ReplayProgress>? progress, MySqlEndpoint? endpoint = null)
    {
        var map = options.SchemaMap ?? new Dictionary<string, string>();
        _map = map;
        _options = options;
        _endpoint = endpoint;
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

    public async Task PrepareAsync(CancellationToken ct)
    {
        await _session.PrepareAsync(ct).ConfigureAwait(false);
        if (_endpoint is not null && _options.ThreadCount > 1)
        {
            _metadata = await WireConnection.OpenAsync(_endpoint, ct).ConfigureAwait(false);
            _tables = new TargetTables(_metadata);
            _parallel = await ParallelApplier.OpenAsync(_endpoint, _options, _applier, Committed, _options.ThreadCount, ct).ConfigureAwait(false);
        }
    }

    public ReplayResult Result(TimeSpan elapsed) => State.Result(elapsed, _parallel);

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
                await AloneAsync(ct).ConfigureAwait(false); // everything before it is in, as serially
                throw transaction.Unreadable!;
            case TransactionEnd.Abandoned:
                // Never committed on the source: its commit never reached the binlog.
                State.Note(transaction, "never committed on the source (the binlog holds it without its end)");
                return true;
        }

        if (transaction.GtidText is { } gtid && _skip.Contains(gtid))
        {
            State.Note(transaction, "skipped as -SkipGtid asked");
            await LeaveOutAsync(transaction, ct).ConfigureAwait(false);
            return true;
        }

        TransactionPlan plan;
        try
        {
            plan = await _scope.PlanAsync(transaction, ct).ConfigureAwait(false);
        }
        catch (Errors.EcomDrException)
        {
            // Refused before any of it runs: what came before it is applied, as serial replay leaves it.
            await AloneAsync(ct).ConfigureAwait(false);
            throw;
        }
        State.Skipped.AddRange(plan.Skipped);
        if (plan.CompletesXid is { } xid && !State.Prepared.Remove(Xids.Normalize(xid)))
        {
            await AloneAsync(ct).ConfigureAwait(false);
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

    public async Task FinishAsync(CancellationToken ct)
    {
        await AloneAsync(ct).ConfigureAwait(false);
        await State.FinishAsync(_session, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// After a failure: the workers stop (what they had not committed rolls back), what the replay holds
    /// is released and the open transaction rolled back.
    /// </summary>
    public async Task AbandonAsync()
    {
        await DisposeAsync().ConfigureAwait(false);
        await State.ReleaseAsync(_session).ConfigureAwait(false);
        await _session.RollbackQuietlyAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (transaction, _) in _batch)
        {
            await transaction.DisposeAsync().ConfigureAwait(false);
        }

        _batch.Clear();
        if (_parallel is not null)
        {
            await _parallel.DisposeAsync().ConfigureAwait(false);
        }

        if (_metadata is not null)
        {
            await _metadata.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Before a transaction that runs here: everything handed to the workers has committed.</summary>
    private async Task AloneAsync(CancellationToken ct)
    {
        if (_parallel is not null)
        {
            await FlushAsync(ct).ConfigureAwait(false);
            await _parallel.DrainAsync(ct).ConfigureAwait(false);
            _schedule.Barrier();
        }
    }

    /// <summary>Hands the gathered batch to the workers.</summary>
    private async Task FlushAsync(CancellationToken ct)
    {
        if (_batch.Count == 0)
        {
            return;
        }

        var batch = _batch;
        _batch = new();
        var after = _batchAfter;
        _batchAfter = _batchBytes = 0;
        try
        {
            await _parallel!.ScheduleAsync(batch, after, ct).ConfigureAwait(false);
        }
        catch
        {
            foreach (var (transaction, _) in batch)
            {
                await transaction.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    // A worker committed it, in binlog order.
    private void Committed(BinlogTransaction transaction)
    {
        State.Applied(transaction);
        _progress?.Report(new ReplayProgress(State.Transactions, State.Events, transaction.EndFile, transaction.EndPosition, transaction.CommitTime));
    }

    private async Task LeaveOutAsync(BinlogTransaction transaction, CancellationToken ct)
    {
        if (State.LeaveOutWrites(transaction))
        {
            await AloneAsync(ct).ConfigureAwait(false);
        }

        await State.LeaveOutAsync(_session, transaction, ct).ConfigureAwait(false);
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

        return LeaveOutAsync(transaction, ct);
    }

    private Task LeaveOutForeignAsync(BinlogTransaction transaction, CancellationToken ct)
    {
        if (transaction.PreparedXid is { } foreign)
        {
            State.Foreign.Add(Xids.Normalize(foreign));
        }

        State.ForeignTransactions++;
        return LeaveOutAsync(transaction, ct);
    }

    private async Task ApplyAsync(BinlogTransaction transaction, TransactionPlan plan, CancellationToken ct)
    {
        if (_parallel is not null && await WritesOfAsync(transaction, plan, ct).ConfigureAwait(false) is { } writes)
        {
            // Into the batch being gathered: it waits for the latest earlier batch any of its transactions conflicts with.
            var seq = _parallel.Dispatched + 1;
            var (after, sameBatch) = _schedule.After(seq, writes, transaction);
            if (_batch.Count > 0 && after > _batchAfter)
            {
                // It would make the whole batch wait for a later one: the batch goes without it, and it starts the
                // next, which then waits for the batch it conflicted with, if it did.
                await FlushAsync(ct).ConfigureAwait(false);
                seq++;
                _schedule.Renumber(writes, seq);
                after = sameBatch ? seq - 1 : after;
            }

            _batchAfter = Math.Max(_batchAfter, after);
            transaction.HandedOff = true;
            _batch.Add((transaction, plan));
            _batchBytes += transaction.Events.Bytes;
            if (_batch.Count >= ParallelApplier.BatchTransactions || _batchBytes >= ParallelApplier.BatchBytes)
            {
                await FlushAsync(ct).ConfigureAwait(false);
            }

            return;
        }

        await AloneAsync(ct).ConfigureAwait(false);
        if (plan.Actions.Contains(EventAction.Apply) && _tables is not null && !RowsOnly(transaction, plan))
        {
            _tables.Forget(); // a statement may change what a table looks like
        }

        if (transaction.PreparedXid is { } prepared)
        {
            State.Prepared[Xids.Normalize(prepared)] = (prepared, transaction.Describe(), transaction.IsMariaDb);
        }

        await _applier.ApplyAsync(_session, transaction, plan, ct).ConfigureAwait(false);
        State.Applied(transaction);
        _progress?.Report(new ReplayProgress(State.Transactions, State.Events, transaction.EndFile, transaction.EndPosition, transaction.CommitTime));
    }

    /// <summary>The writeset of a transaction the workers may run, or null when it must run alone.</summary>
    private async Task<WriteSet?> WritesOfAsync(BinlogTransaction transaction, TransactionPlan plan, CancellationToken ct) =>
        RowsOnly(transaction, plan) && transaction.Events.Bytes <= ParallelTransactionBytes && !transaction.Events.Spilled
            ? await WriteSet.ComputeAsync(transaction, plan, _map, _tables!, ct).ConfigureAwait(false)
            : null;

    /// <summary>A plain BEGIN … COMMIT of row events: no statement, no XA, nothing that commits by itself or was logged with ROLLBACK.</summary>
    private static bool RowsOnly(BinlogTransaction transaction, TransactionPlan plan) =>
        transaction.End == TransactionEnd.Committed && !transaction.Standalone && !transaction.EndsWithRollback && transaction.PreparedXid is null
        && plan.ImplicitCommitAt is null && plan.Shadows.Count == 0 && plan.CompletesXid is null && !plan.StatementOpens
        && !plan.Actions.Contains(EventAction.Context);
}
