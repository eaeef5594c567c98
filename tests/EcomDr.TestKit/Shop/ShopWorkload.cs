using System.Diagnostics;
using MySqlConnector;

namespace EcomDr.TestKit.Shop;

/// <summary>
/// Concurrent shop traffic: orders placed (stock decremented), payments captured, refunds, restocks
/// through the stored procedure. Every transaction keeps the invariants that
/// <see cref="ShopInspector.VerifyInvariantsAsync"/> checks. <see cref="CheckpointAsync"/> pauses the
/// writers between transactions and records the binlog position and table checksums.
/// </summary>
public sealed class ShopWorkload : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly string _schema;
    private readonly int _workers;
    private readonly double _transactionsPerSecond;
    private readonly SemaphoreSlim _gate;
    private readonly SemaphoreSlim _checkpointLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = new();
    private readonly List<string> _errors = new();
    private long _orders, _captures, _refunds, _restocks, _retries;
    private int _seed;

    private ShopWorkload(string connectionString, string schema, int workers, double transactionsPerSecond, int seed)
    {
        _connectionString = connectionString;
        _schema = schema;
        _workers = workers;
        _transactionsPerSecond = transactionsPerSecond;
        _gate = new SemaphoreSlim(workers, workers);
        _seed = seed;
    }

    public long OrdersPlaced => Interlocked.Read(ref _orders);

    public long PaymentsCaptured => Interlocked.Read(ref _captures);

    public long Refunds => Interlocked.Read(ref _refunds);

    public long Restocks => Interlocked.Read(ref _restocks);

    /// <summary>Deadlocks and lock waits retried (expected under concurrency).</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Unexpected failures; a healthy run has none.</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToArray();
            }
        }
    }

    /// <summary>Starts <paramref name="workers"/> writers sharing about <paramref name="transactionsPerSecond"/> (0: as fast as they can).</summary>
    public static ShopWorkload Start(string connectionString, string schema, int workers = 4, double transactionsPerSecond = 200, int seed = 1)
    {
        var workload = new ShopWorkload(connectionString, schema, workers, transactionsPerSecond, seed);
        for (var i = 0; i < workers; i++)
        {
            var workerSeed = Interlocked.Increment(ref workload._seed);
            workload._tasks.Add(Task.Run(() => workload.RunWorkerAsync(workerSeed)));
        }

        return workload;
    }

    /// <summary>Waits until no transaction is in flight, records the moment, then lets writers resume.</summary>
    public async Task<ShopCheckpoint> CheckpointAsync()
    {
        await _checkpointLock.WaitAsync().ConfigureAwait(false);
        var held = 0;
        try
        {
            for (; held < _workers; held++)
            {
                await _gate.WaitAsync().ConfigureAwait(false);
            }

            await using var connection = await ShopGenerator.OpenAsync(_connectionString, _schema).ConfigureAwait(false);
            var (gtid, file, position) = await ShopInspector.BinlogPositionAsync(connection).ConfigureAwait(false);
            await using var last = new MySqlCommand("SELECT COALESCE(MAX(id), 0) FROM orders", connection);
            var lastOrder = Convert.ToInt64(await last.ExecuteScalarAsync().ConfigureAwait(false));
            return new ShopCheckpoint(DateTime.UtcNow, gtid, file, position, lastOrder,
                await ShopInspector.ChecksumsAsync(connection).ConfigureAwait(false),
                await ShopInspector.RowCountsAsync(connection).ConfigureAwait(false));
        }
        finally
        {
            if (held > 0)
            {
                _gate.Release(held);
            }

            _checkpointLock.Release();
        }
    }

    /// <summary>Stops the writers after their current transaction.</summary>
    public async Task StopAsync()
    {
        _stop.Cancel();
        await Task.WhenAll(_tasks).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task RunWorkerAsync(int seed)
    {
        var rng = new Random(seed);
        var pace = _transactionsPerSecond > 0 ? TimeSpan.FromSeconds(_workers / _transactionsPerSecond) : TimeSpan.Zero;
        MySqlConnection? connection = null;
        try
        {
            connection = await ShopGenerator.OpenAsync(_connectionString, _schema).ConfigureAwait(false);
            await ShopGenerator.ExecAsync(connection, "SET SESSION foreign_key_checks = 1, unique_checks = 1, innodb_lock_wait_timeout = 5").ConfigureAwait(false);
            var (maxCustomer, maxProduct) = await BoundsAsync(connection).ConfigureAwait(false);
            var clock = Stopwatch.StartNew();
            var done = 0L;
            while (!_stop.IsCancellationRequested)
            {
                await _gate.WaitAsync().ConfigureAwait(false);
                try
                {
                    await OneTransactionAsync(connection, rng, maxCustomer, maxProduct).ConfigureAwait(false);
                }
                catch (MySqlException ex) when (ex.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout)
                {
                    Interlocked.Increment(ref _retries);
                    await RollbackQuietlyAsync(connection).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    lock (_errors)
                    {
                        if (_errors.Count < 20)
                        {
                            _errors.Add(ex.Message);
                        }
                    }

                    await RollbackQuietlyAsync(connection).ConfigureAwait(false);
                }
                finally
                {
                    _gate.Release();
                }

                if (pace > TimeSpan.Zero)
                {
                    var wait = pace * ++done - clock.Elapsed;
                    if (wait > TimeSpan.Zero)
                    {
                        try
                        {
                            await Task.Delay(wait, _stop.Token).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException)
                        {
                            break;
                        }
                    }
                }
            }
        }
        catch (Exception ex)
        {
            lock (_errors)
            {
                _errors.Add($"worker failed: {ex.Message}");
            }
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task OneTransactionAsync(MySqlConnection c, Random rng, long maxCustomer, long maxProduct)
    {
        var roll = rng.Next(100);
        if (roll < 55)
        {
            await PlaceOrderAsync(c, rng, maxCustomer, maxProduct).ConfigureAwait(false);
        }
        else if (roll < 80)
        {
            await CaptureAsync(c, rng).ConfigureAwait(false);
        }
        else if (roll < 92)
        {
            await RefundAsync(c, rng).ConfigureAwait(false);
        }
        else
        {
            await Exec(c, $"CALL sp_restock({rng.NextInt64(1, maxProduct + 1)}, {rng.Next(1, 50)})").ConfigureAwait(false);
            Interlocked.Increment(ref _restocks);
        }
    }

    private async Task PlaceOrderAsync(MySqlConnection c, Random rng, long maxCustomer, long maxProduct)
    {
        var wanted = Enumerable.Range(0, rng.Next(1, 4)).Select(_ => rng.NextInt64(1, maxProduct + 1)).Distinct().Order().ToArray();
        await Exec(c, "START TRANSACTION").ConfigureAwait(false);
        // Lock stock rows in id order so concurrent orders do not deadlock more than needed.
        var lines = new List<(long Product, int Quantity, decimal Price)>();
        await using (var cmd = new MySqlCommand(
            $"SELECT i.product_id, i.on_hand, p.price FROM inventory i JOIN products p ON p.id = i.product_id WHERE i.product_id IN ({string.Join(',', wanted)}) ORDER BY i.product_id FOR UPDATE", c))
        await using (var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false))
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                var quantity = Math.Min(reader.GetInt32(1), rng.Next(1, 4));
                if (quantity > 0)
                {
                    lines.Add((reader.GetInt64(0), quantity, reader.GetDecimal(2)));
                }
            }
        }

        if (lines.Count == 0)
        {
            await Exec(c, "ROLLBACK").ConfigureAwait(false);
            return;
        }

        var total = lines.Sum(l => l.Quantity * l.Price);
        await using (var insert = new MySqlCommand(
            "INSERT INTO orders (customer_id, status, item_count, total, notes, placed_at) VALUES (@c, 'pending', @n, @t, @notes, NOW(6))", c))
        {
            insert.Parameters.AddWithValue("@c", rng.NextInt64(1, maxCustomer + 1));
            insert.Parameters.AddWithValue("@n", lines.Sum(l => l.Quantity));
            insert.Parameters.AddWithValue("@t", total);
            insert.Parameters.AddWithValue("@notes", rng.Next(5) == 0 ? "Presente 🎁 — embrulhar" : null);
            await insert.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        await Exec(c, string.Concat(lines.Select(l =>
            $"INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES (LAST_INSERT_ID(), {l.Product}, {l.Quantity}, {l.Price.ToString(System.Globalization.CultureInfo.InvariantCulture)});"))
            .Replace("LAST_INSERT_ID()", "@order", StringComparison.Ordinal)
            .Insert(0, "SET @order = LAST_INSERT_ID();")).ConfigureAwait(false);
        await Exec(c, string.Concat(lines.Select(l =>
            $"UPDATE inventory SET on_hand = on_hand - {l.Quantity}, updated_at = NOW(6) WHERE product_id = {l.Product};"))).ConfigureAwait(false);
        await Exec(c, "COMMIT").ConfigureAwait(false);
        Interlocked.Increment(ref _orders);
    }

    private async Task CaptureAsync(MySqlConnection c, Random rng)
    {
        await Exec(c, "START TRANSACTION").ConfigureAwait(false);
        var order = await OrderAsync(c, "pending", rng).ConfigureAwait(false);
        if (order is not { } o)
        {
            await Exec(c, "ROLLBACK").ConfigureAwait(false);
            return;
        }

        var external = $"wl{Guid.NewGuid():N}"[..30];
        var amount = o.Total.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Exec(c,
            $"INSERT INTO payments (order_id, external_id, status, amount, payload, created_at, captured_at) VALUES ({o.Id}, '{external}', 'approved', {amount}, " +
            $"JSON_OBJECT('id', '{external}', 'status', 'approved', 'transaction_amount', {amount}, 'payment_method_id', 'pix'), NOW(6), NOW(6));" +
            $"UPDATE orders SET status = 'paid' WHERE id = {o.Id};").ConfigureAwait(false);
        await Exec(c, "COMMIT").ConfigureAwait(false);
        Interlocked.Increment(ref _captures);
    }

    private async Task RefundAsync(MySqlConnection c, Random rng)
    {
        await Exec(c, "START TRANSACTION").ConfigureAwait(false);
        var order = await OrderAsync(c, "paid", rng).ConfigureAwait(false);
        if (order is not { } o)
        {
            await Exec(c, "ROLLBACK").ConfigureAwait(false);
            return;
        }

        long paymentId;
        await using (var cmd = new MySqlCommand($"SELECT id FROM payments WHERE order_id = {o.Id} AND status = 'approved' FOR UPDATE", c))
        {
            paymentId = Convert.ToInt64(await cmd.ExecuteScalarAsync().ConfigureAwait(false)
                ?? throw new InvalidOperationException($"paid order {o.Id} has no approved payment"));
        }

        // A locking read sees the latest committed refunds; a plain subquery would read this
        // transaction's older snapshot (REPEATABLE READ) and miss a refund committed meanwhile.
        decimal refunded;
        await using (var sum = new MySqlCommand($"SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE payment_id = {paymentId} LOCK IN SHARE MODE", c))
        {
            refunded = Convert.ToDecimal(await sum.ExecuteScalarAsync().ConfigureAwait(false));
        }

        var remaining = o.Total - refunded;
        var full = rng.Next(2) == 0 || remaining < 1m;
        var amount = full ? remaining : Math.Round(remaining / 3, 2);
        var text = amount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var sql = $"INSERT INTO refunds (payment_id, amount, reason, created_at) VALUES ({paymentId}, {text}, 'devolução', NOW(6));";
        if (full)
        {
            sql += $"UPDATE payments SET status = 'refunded' WHERE id = {paymentId}; UPDATE orders SET status = 'refunded' WHERE id = {o.Id};";
        }

        await Exec(c, sql).ConfigureAwait(false);
        await Exec(c, "COMMIT").ConfigureAwait(false);
        Interlocked.Increment(ref _refunds);
    }

    private static async Task<(long Id, decimal Total)?> OrderAsync(MySqlConnection c, string status, Random rng)
    {
        // A random starting id spreads workers over the table instead of fighting for the first row. The
        // fraction is drawn here: RAND() in the subquery made it depend on each row, a scan per row on a big shop.
        var fraction = new Random(rng.Next()).NextDouble().ToString("0.000000", System.Globalization.CultureInfo.InvariantCulture);
        await using var cmd = new MySqlCommand(
            $"SELECT id, total FROM orders WHERE status = '{status}' AND id >= (SELECT FLOOR({fraction} * MAX(id)) FROM orders) ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED", c);
        await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
        return await reader.ReadAsync().ConfigureAwait(false) ? (reader.GetInt64(0), reader.GetDecimal(1)) : null;
    }

    private static async Task<(long, long)> BoundsAsync(MySqlConnection c)
    {
        await using var cmd = new MySqlCommand("SELECT (SELECT MAX(id) FROM customers), (SELECT MAX(id) FROM products)", c);
        await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
        await reader.ReadAsync().ConfigureAwait(false);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static async Task Exec(MySqlConnection c, string sql)
    {
        await using var cmd = new MySqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    private static async Task RollbackQuietlyAsync(MySqlConnection c)
    {
        try
        {
            await Exec(c, "ROLLBACK").ConfigureAwait(false);
        }
        catch (MySqlException)
        {
            // the connection is already out of the transaction
        }
    }
}
