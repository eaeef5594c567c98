using System.Diagnostics;
using System.Threading.Channels;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// Runs row-only transactions on several connections at once and commits them in binlog order, as a
/// replica with replica_preserve_commit_order does. Transactions come in batches of consecutive ones;
/// each batch gets a number and the number of the batch it must wait for (<see cref="CommitSchedule"/>).
/// A worker runs the body of the batch's first transaction as soon as that batch has committed, waits
/// for its turn, then sends that COMMIT and the rest of the batch, whole transactions each ending with
/// its COMMIT, in one round trip. So the target only ever holds a prefix of the binlog, its GTID state
/// is serial replay's, and a failure anywhere leaves the last transaction committed in order as the
/// exact end point: everything before the failed transaction commits, nothing after it.
/// <para>
/// A transaction the server refuses for a deadlock or a lock wait (a conflict the writeset did not
/// foresee, or another session's lock) is rolled back and retried in order: it waits until it is the
/// oldest not committed, has every later batch roll back what it holds, then runs alone; the later
/// ones run again after it. No transaction is ever committed twice or skipped.
/// </para>
/// </summary>
internal sealed class ParallelApplier : IAsyncDisposable
{
    private const int MaxRetries = 10;
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
    private readonly Dictionary<long, uint> _holding = new(); // batches running, by number: the connection running each
    private long _failedSeq = long.MaxValue;
    private ReplayWorkerException? _failure;
    private bool _disposed;
    private double _busyIntegral;
    private double _busyTime;
    private TimeSpan _busySince;

    private ParallelApplier(TransactionApplier applier, Action<BinlogTransaction> committed, int threads)
    {
        _applier = applier;
        _committed = committed;
        Threads = threads;
        // A short queue: what is read ahead stays small (a batch holds about BatchBytes at most).
        _queue = Channel.CreateBounded<Work>(new BoundedChannelOptions(threads * 2) { SingleWriter = true });
    }

    public int Threads { get; }

    /// <summary>Transactions run on the workers.</summary>
    public long Transactions { get; private set; }

    /// <summary>Retries after a deadlock or a lock wait timeout.</summary>
    public long Retries { get; private set; }

    /// <summary>How many connections were applying at once, on average over the time any was.</summary>
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

    /// <summary>The number of the last batch handed over (what the next one may depend on).</summary>
    public long Dispatched => _dispatched;

    /// <summary>Consecutive transactions handed over together: one commits after the other in one round trip.</summary>
    public const int BatchTransactions = 32;

    /// <summary>Events of one batch at most.</summary>
    public const long BatchBytes = 1 << 20;

    public static async Task<ParallelApplier> OpenAsync(MySqlEndpoint endpoint, ReplayOptions options, TransactionApplier applier, Action<BinlogTransaction> committed,
        int threads, CancellationToken ct)
    {
        var parallel = new ParallelApplier(applier, committed, threads);
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

            for (var i = 0; i < threads; i++)
            {
                var (session, id) = (parallel._sessions[i], parallel._connections[i].ConnectionId);
                parallel._workers.Add(Task.Run(() => parallel.WorkAsync(session, id), CancellationToken.None));
            }

            var watcher = await WireConnection.OpenAsync(endpoint, ct).ConfigureAwait(false);
            parallel._connections.Add(watcher);
            parallel._workers.Add(Task.Run(() => parallel.WatchAsync(watcher), CancellationToken.None));

            return parallel;
        }
        catch
        {
            await parallel.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Hands a batch of consecutive transactions over as number <see cref="Dispatched"/> + 1; it runs once
    /// batch number <paramref name="after"/> has committed. The applier owns them from here.
    /// </summary>
    public async Task ScheduleAsync(IReadOnlyList<(BinlogTransaction Transaction, TransactionPlan Plan)> batch, long after, CancellationToken ct)
    {
        ThrowIfFailed();
        var seq = ++_dispatched;
        await _queue.Writer.WriteAsync(new Work(seq, batch, Math.Min(after, seq - 1)), ct).ConfigureAwait(false);
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

    private async Task WorkAsync(ReplaySession session, uint connection)
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
                await RunAsync(session, connection, work).ConfigureAwait(false);
            }
            finally
            {
                foreach (var (transaction, _) in work.Items)
                {
                    await transaction.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
    }

    private async Task RunAsync(ReplaySession session, uint connection, Work work)
    {
        var ct = _stop.Token;
        var retries = 0;
        var done = 0; // members of the batch committed
        while (true)
        {
            var current = work.Items[done];
            try
            {
                // Its dependency has committed, and no retry in front of it is running alone.
                await WaitUntilAsync(() => Abandoned(work.Seq) || _committedSeq >= work.After && (_barrier <= _committedSeq || _barrier >= work.Seq), ct).ConfigureAwait(false);
                if (IsAbandoned(work.Seq))
                {
                    return;
                }

                Holding(work.Seq, connection);
                await _applier.BodyAsync(session, current.Transaction, current.Plan, ct).ConfigureAwait(false);
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
                    Holding(work.Seq, null);
                    if (abandon)
                    {
                        return;
                    }

                    continue;
                }

                // Its turn: its COMMIT, then the rest of the batch, whole transactions, in one round trip.
                var ends = new List<int>();
                session.BeginBatch();
                await TransactionApplier.EndAsync(session, current.Transaction, ct).ConfigureAwait(false);
                ends.Add(session.BatchStatements);
                foreach (var (transaction, plan) in work.Items.Skip(done + 1))
                {
                    await _applier.BodyAsync(session, transaction, plan, ct).ConfigureAwait(false);
                    await TransactionApplier.EndAsync(session, transaction, ct).ConfigureAwait(false);
                    ends.Add(session.BatchStatements);
                }

                try
                {
                    await session.SendBatchAsync(ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is WireServerException or IOException)
                {
                    // Those whose COMMIT completed are in; the one that failed is rolled back below.
                    var completed = session.CompletedStatements;
                    var committed = ends.TakeWhile(end => end <= completed).Count();
                    for (var i = 0; i < committed; i++)
                    {
                        _committed(work.Items[done + i].Transaction);
                    }

                    done += committed;
                    throw;
                }

                foreach (var (transaction, _) in work.Items.Skip(done))
                {
                    _committed(transaction);
                }

                Holding(work.Seq, null);
                lock (_gate)
                {
                    _committedSeq = work.Seq;
                    Transactions += work.Items.Count;
                }

                Pulse();
                return;
            }
            catch (WireServerException ex) when (ex.Code is WireServerException.LockDeadlock or WireServerException.LockWaitTimeout && retries < MaxRetries)
            {
                retries++;
                await session.RollbackQuietlyAsync().ConfigureAwait(false);
                Holding(work.Seq, null);
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
                await WaitUntilAsync(() => Abandoned(work.Seq) || _holding.Keys.All(h => h < work.Seq), ct).ConfigureAwait(false);
                if (IsAbandoned(work.Seq))
                {
                    return;
                }
            }
            catch (Exception ex)
            {
                await session.RollbackQuietlyAsync().ConfigureAwait(false);
                Holding(work.Seq, null);
                Fail(work, work.Items[Math.Min(done, work.Items.Count - 1)].Transaction, ex);
                return;
            }
        }
    }

    /// <summary>
    /// Watches for the one wait the server cannot see: the oldest transaction not committed waiting for a
    /// lock that a later one holds while that one waits for its turn to commit. When the oldest has made
    /// no progress over a whole interval, the server's lock waits are read; if a later replay connection
    /// blocks it, every later transaction rolls back (and runs again after it), so it goes on at once
    /// instead of after innodb_lock_wait_timeout. MariaDB creates such a wait, for one, when a later
    /// transaction's insert into an empty table takes that table's lock.
    /// </summary>
    private async Task WatchAsync(WireConnection watcher)
    {
        var stalled = -1L;
        var sql = "SELECT r.trx_mysql_thread_id, b.trx_mysql_thread_id FROM information_schema.INNODB_LOCK_WAITS w " +
            "JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id";
        try
        {
            while (true)
            {
                // InnoDB refreshes its lock tables for a reader only after 100 ms without one.
                await Task.Delay(200, _stop.Token).ConfigureAwait(false);
                long head;
                uint headConnection;
                HashSet<uint> later;
                lock (_gate)
                {
                    head = _committedSeq + 1;
                    if (!_holding.TryGetValue(head, out headConnection) || _failure is not null)
                    {
                        stalled = -1;
                        continue;
                    }

                    later = _holding.Where(h => h.Key > head).Select(h => h.Value).ToHashSet();
                }

                if (head != stalled || later.Count == 0)
                {
                    stalled = head; // look again after a whole interval without a commit
                    continue;
                }

                List<string?[]> waits;
                try
                {
                    waits = await watcher.QueryRowsAsync(sql, _stop.Token).ConfigureAwait(false);
                }
                catch (WireServerException) when (sql.Contains("information_schema", StringComparison.Ordinal))
                {
                    sql = "SELECT waiting_pid, blocking_pid FROM sys.innodb_lock_waits"; // MySQL 8: the lock tables moved to performance_schema
                    continue;
                }

                if (waits.Any(w => w[0] == headConnection.ToString(System.Globalization.CultureInfo.InvariantCulture)
                    && uint.TryParse(w[1], out var blocker) && later.Contains(blocker)))
                {
                    lock (_gate)
                    {
                        if (_committedSeq + 1 == head && _barrier <= _committedSeq)
                        {
                            _barrier = head;
                            Retries++;
                        }
                    }

                    Pulse();
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WireServerException or IOException or InvalidOperationException)
        {
            // Stopped, or the server refused: lock waits then end by innodb_lock_wait_timeout and a retry.
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

    private void Holding(long seq, uint? connection)
    {
        lock (_gate)
        {
            // Time-weighted count of the batches running, for AverageConcurrency.
            var now = _clock.Elapsed;
            var span = (now - _busySince).TotalSeconds;
            _busyIntegral += _holding.Count * span;
            _busyTime += _holding.Count > 0 ? span : 0;
            _busySince = now;
            if (connection is { } id)
            {
                _holding[seq] = id;
            }
            else
            {
                _holding.Remove(seq);
            }
        }

        Pulse();
    }

    private void Fail(Work work, BinlogTransaction transaction, Exception ex)
    {
        lock (_gate)
        {
            if (work.Seq < _failedSeq)
            {
                _failedSeq = work.Seq;
                _failure = new ReplayWorkerException(transaction.Describe(), transaction.GtidText ?? transaction.Start, ex);
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
            foreach (var (transaction, _) in left.Items)
            {
                await transaction.DisposeAsync().ConfigureAwait(false);
            }
        }

        foreach (var connection in _connections)
        {
            // Closing rolls back whatever a worker had open.
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private sealed record Work(long Seq, IReadOnlyList<(BinlogTransaction Transaction, TransactionPlan Plan)> Items, long After);
}

/// <summary>A parallel replay worker's failure: which transaction, and why.</summary>
internal sealed class ReplayWorkerException(string transaction, string target, Exception inner)
    : Exception($"{transaction}: {inner.Message}", inner)
{
    public string Transaction { get; } = transaction;

    public string Target { get; } = target;
}
