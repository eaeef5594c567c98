using System.Diagnostics;
using System.Threading.Channels;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// Runs row-only transactions on several connections at once and commits them in binlog order, as a
/// replica with replica_preserve_commit_order does. Each transaction gets a sequence number and the
/// number of the transaction it must wait for (<see cref="CommitSchedule"/>); a worker runs its body as
/// soon as that one has committed, then waits for its turn to commit. So the target only ever holds a
/// prefix of the binlog, its GTID state is serial replay's, and a failure anywhere leaves the last
/// transaction committed in order as the exact end point: transactions before the failed one still
/// commit, those after it are rolled back.
/// <para>
/// A transaction the server refuses for a deadlock or a lock wait (a conflict the writeset did not
/// foresee, or another session's lock) is rolled back and retried in order: it waits until it is the
/// oldest not committed, has every later transaction roll back what it holds, then runs alone; the
/// later ones run again after it. No transaction is ever committed twice or skipped.
/// </para>
/// </summary>
internal sealed class ParallelApplier : IAsyncDisposable
{
    private const int MaxRetries = 10;
    private readonly MySqlEndpoint _endpoint;
    private readonly ReplayOptions _options;
    private readonly TransactionApplier _applier;
    private readonly Action<BinlogTransaction> _committed;
    private readonly Channel<Work> _queue;
    private readonly List<Task> _workers = new();
    private readonly List<ReplaySession> _sessions = new();
    private readonly List<WireConnection> _connections = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private readonly Stopwatch _clock = new();
    private TaskCompletionSource _changed = NewSignal();
    private long _dispatched;
    private long _committedSeq;
    private long _barrier;
    private readonly HashSet<long> _holding = new();
    private long _failedSeq = long.MaxValue;
    private ReplayWorkerException? _failure;
    private bool _disposed;
    private double _busyIntegral;
    private double _busyTime;
    private TimeSpan _busySince;

    private ParallelApplier(MySqlEndpoint endpoint, ReplayOptions options, TransactionApplier applier, Action<BinlogTransaction> committed, int threads)
    {
        _endpoint = endpoint;
        _options = options;
        _applier = applier;
        _committed = committed;
        Threads = threads;
        // A short queue: what is read ahead stays small (each transaction here is at most ParallelTransactionBytes).
        _queue = Channel.CreateBounded<Work>(new BoundedChannelOptions(threads * 2) { SingleWriter = true });
    }

    public int Threads { get; }

    /// <summary>Transactions run on the workers.</summary>
    public long Transactions => Interlocked.Read(ref _committedSeq);

    /// <summary>Retries after a deadlock or a lock wait timeout.</summary>
    public long Retries { get; private set; }

    /// <summary>How many transactions were running at once, on average over the time any was.</summary>
    public double AverageConcurrency
    {
        get
        {
            lock (_gate)
            {
                return _busyTime > 0 ? Math.Round(_busyIntegral / _busyTime, 2) : 0;
            }
        }
    }

    /// <summary>The number of the last transaction handed over (what the next one may depend on).</summary>
    public long Dispatched => _dispatched;

    public static async Task<ParallelApplier> OpenAsync(MySqlEndpoint endpoint, ReplayOptions options, TransactionApplier applier, Action<BinlogTransaction> committed,
        int threads, CancellationToken ct)
    {
        var parallel = new ParallelApplier(endpoint, options, applier, committed, threads);
        try
        {
            for (var i = 0; i < threads; i++)
            {
                var connection = await WireConnection.OpenAsync(endpoint, ct, multiStatements: true).ConfigureAwait(false);
                parallel._connections.Add(connection);
                var session = new ReplaySession(new ServerSink(connection, endpoint), options);
                parallel._sessions.Add(session);
                await session.PrepareAsync(ct).ConfigureAwait(false);
                // Row events name their rows exactly: no gap locks needed, and fewer unforeseen conflicts. A lock
                // wait that outlasts the timeout is taken for a conflict with a later transaction and retried.
                await session.ExecuteAsync($"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED; SET SESSION innodb_lock_wait_timeout = {options.LockWaitTimeoutSeconds}", ct)
                    .ConfigureAwait(false);
            }

            foreach (var session in parallel._sessions)
            {
                parallel._workers.Add(Task.Run(() => parallel.WorkAsync(session), CancellationToken.None));
            }

            return parallel;
        }
        catch
        {
            await parallel.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Hands a transaction over; it runs once transaction number <paramref name="after"/> has committed. The applier owns it from here.</summary>
    public async Task ScheduleAsync(BinlogTransaction transaction, TransactionPlan plan, long after, CancellationToken ct)
    {
        ThrowIfFailed();
        var seq = ++_dispatched;
        await _queue.Writer.WriteAsync(new Work(seq, transaction, plan, Math.Min(after, seq - 1)), ct).ConfigureAwait(false);
    }

    /// <summary>Waits until everything handed over has committed (before a transaction that runs alone, and at the end).</summary>
    public async Task DrainAsync(CancellationToken ct)
    {
        // After a failure, everything before the failed transaction commits (it was taken first); nothing after it does.
        await WaitUntilAsync(() => _committedSeq == _dispatched || _failure is not null && _committedSeq >= _failedSeq - 1, ct).ConfigureAwait(false);
        ThrowIfFailed();
    }

    private void ThrowIfFailed()
    {
        lock (_gate)
        {
            if (_failure is not null)
            {
                throw _failure;
            }
        }
    }

    private async Task WorkAsync(ReplaySession session)
    {
        await foreach (var work in _queue.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            lock (_gate)
            {
                if (!_clock.IsRunning)
                {
                    _clock.Start();
                }
            }

            try
            {
                await RunAsync(session, work).ConfigureAwait(false);
            }
            finally
            {
                await work.Transaction.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task RunAsync(ReplaySession session, Work work)
    {
        var ct = _stop.Token;
        var retries = 0;
        while (true)
        {
            try
            {
                // Its dependency has committed, and no retry in front of it is running alone.
                await WaitUntilAsync(() => Abandoned(work.Seq) || _committedSeq >= work.After && (_barrier <= _committedSeq || _barrier >= work.Seq), ct).ConfigureAwait(false);
                if (IsAbandoned(work.Seq))
                {
                    return;
                }

                Holding(work.Seq, true);
                await _applier.BodyAsync(session, work.Transaction, work.Plan, ct).ConfigureAwait(false);
                await WaitUntilAsync(() => Abandoned(work.Seq) || _committedSeq == work.Seq - 1 || Yields(work.Seq), ct).ConfigureAwait(false);
                bool abandon, yield;
                lock (_gate)
                {
                    abandon = Abandoned(work.Seq);
                    yield = !abandon && _committedSeq != work.Seq - 1;
                }

                if (abandon || yield)
                {
                    // Behind a failure: never committed. Behind a retry: rolled back, to run again after it.
                    await session.RollbackQuietlyAsync().ConfigureAwait(false);
                    Holding(work.Seq, false);
                    if (abandon)
                    {
                        return;
                    }

                    continue;
                }

                await TransactionApplier.EndAsync(session, work.Transaction, ct).ConfigureAwait(false);
                Holding(work.Seq, false);
                _committed(work.Transaction);
                lock (_gate)
                {
                    _committedSeq = work.Seq;
                }

                Pulse();
                return;
            }
            catch (WireServerException ex) when (ex.Code is WireServerException.LockDeadlock or WireServerException.LockWaitTimeout && retries < MaxRetries)
            {
                retries++;
                await session.RollbackQuietlyAsync().ConfigureAwait(false);
                Holding(work.Seq, false);
                lock (_gate)
                {
                    Retries++;
                }

                // Oldest first, then alone: every later transaction lets go of its locks before this one runs again.
                await WaitUntilAsync(() => Abandoned(work.Seq) || _committedSeq == work.Seq - 1, ct).ConfigureAwait(false);
                lock (_gate)
                {
                    _barrier = work.Seq;
                }

                Pulse();
                await WaitUntilAsync(() => Abandoned(work.Seq) || _holding.All(h => h < work.Seq), ct).ConfigureAwait(false);
                if (IsAbandoned(work.Seq))
                {
                    return;
                }
            }
            catch (Exception ex)
            {
                await session.RollbackQuietlyAsync().ConfigureAwait(false);
                Holding(work.Seq, false);
                Fail(work, ex);
                return;
            }
        }
    }

    // Under the gate.
    private bool Abandoned(long seq) => _failure is not null && seq > _failedSeq || _stop.IsCancellationRequested;

    private bool IsAbandoned(long seq)
    {
        lock (_gate)
        {
            return Abandoned(seq);
        }
    }

    // Under the gate: a retry in front of it runs alone.
    private bool Yields(long seq) => _barrier > _committedSeq && _barrier < seq;

    private void Holding(long seq, bool holds)
    {
        lock (_gate)
        {
            // Time-weighted count of the transactions running, for AverageConcurrency.
            var now = _clock.Elapsed;
            var span = (now - _busySince).TotalSeconds;
            _busyIntegral += _holding.Count * span;
            _busyTime += _holding.Count > 0 ? span : 0;
            _busySince = now;
            if (holds)
            {
                _holding.Add(seq);
            }
            else
            {
                _holding.Remove(seq);
            }
        }

        Pulse();
    }

    private void Fail(Work work, Exception ex)
    {
        lock (_gate)
        {
            if (work.Seq < _failedSeq)
            {
                _failedSeq = work.Seq;
                _failure = new ReplayWorkerException(work.Transaction.Describe(), work.Transaction.GtidText ?? work.Transaction.Start, ex);
            }
        }

        Pulse();
    }

    /// <summary>Waits until the condition, read under the gate, holds: every change of state pulses the waiters.</summary>
    private async Task WaitUntilAsync(Func<bool> condition, CancellationToken ct)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (condition())
                {
                    return;
                }

                wait = _changed.Task;
            }

            await wait.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    private void Pulse()
    {
        TaskCompletionSource old;
        lock (_gate)
        {
            old = _changed;
            _changed = NewSignal();
        }

        old.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _queue.Writer.TryComplete();
        _stop.Cancel();
        Pulse();
        try
        {
            await Task.WhenAll(_workers).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        // Still queued: never run.
        while (_queue.Reader.TryRead(out var left))
        {
            await left.Transaction.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var connection in _connections)
        {
            // Closing rolls back whatever a worker had open.
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private sealed record Work(long Seq, BinlogTransaction Transaction, TransactionPlan Plan, long After);
}

/// <summary>A parallel replay worker's failure: which transaction, and why.</summary>
internal sealed class ReplayWorkerException(string transaction, string target, Exception inner)
    : Exception($"{transaction}: {inner.Message}", inner)
{
    public string Transaction { get; } = transaction;

    public string Target { get; } = target;
}
