using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Load;
using EcomDr.Engine.Sources.MySql.Pitr;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.TestKit.Servers;
using EcomDr.TestKit.Shop;
using MySqlConnector;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>
/// Parallel replay on real MariaDB servers against serial replay of the same shipped binlog: the
/// shop workload with six writers, hot rows, a table without a primary key, cascading foreign keys,
/// DDL mid-stream and a 12 MB statement; then a worker connection killed mid-replay, and a deadlock
/// the writeset could not foresee.
/// </summary>
public sealed class ParallelReplayTests : IAsyncLifetime
{
    private MariaDbServer _source = null!;
    private RepoFixture _repo = null!;

    public async Task InitializeAsync()
    {
        _source = await MariaDbServer.StartAsync();
        _repo = new RepoFixture(frameSize: 1 << 16);
    }

    public async Task DisposeAsync()
    {
        _repo.Dispose();
        await _source.DisposeAsync();
    }

    private static MySqlEndpoint Root(MariaDbServer server) => new("127.0.0.1", server.Port, "root", Secret.Empty, "None");

    [Fact]
    public async Task ParallelReplayEndsExactlyWhereSerialReplayDoesAtEveryStopPoint()
    {
        await ShopGenerator.CreateAsync(_source.RootConnectionString, "ecommerce", new ShopSize(300, 40, 1500), seed: 31);
        // Beside the shop (whose checkpoints cover its own schema only): what its generator does not write.
        await _source.ExecuteAsync("""
            CREATE DATABASE extra;
            CREATE TABLE extra.hot (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(20) COLLATE utf8mb4_general_ci, UNIQUE KEY by_note (note));
            INSERT INTO extra.hot SELECT seq, 0, CONCAT('n', seq) FROM extra.seq_1_to_5;
            CREATE TABLE extra.journal (at INT NOT NULL, what VARCHAR(40));
            CREATE TABLE extra.cart (id INT PRIMARY KEY, owner INT NOT NULL);
            CREATE TABLE extra.cart_line (id INT PRIMARY KEY, cart_id INT NOT NULL, qty INT NOT NULL,
              FOREIGN KEY (cart_id) REFERENCES extra.cart (id) ON DELETE CASCADE);
            CREATE TABLE extra.big (id INT PRIMARY KEY, pad VARCHAR(1000));
            """);
        var full = await MySqlDumper.RunAsync(_repo.Context, Root(_source), new DumpOptions(new[] { "ecommerce", "extra" }, ThreadCount: 2, ChunkRows: 1000), null,
            CancellationToken.None);

        var checkpoints = new List<ShopCheckpoint>();
        string middleGtid;
        await using (var workload = ShopWorkload.Start(_source.RootConnectionString, "ecommerce", workers: 6, transactionsPerSecond: 600, seed: 9))
        {
            using var stop = new CancellationTokenSource();
            var extra = Enumerable.Range(0, 2).Select(w => Task.Run(() => ExtraWriterAsync(w, stop.Token))).ToList();
            await WaitForOrdersAsync(workload, 300);
            checkpoints.Add(await workload.CheckpointAsync());
            // DDL mid-stream, while everything else keeps writing.
            await _source.ExecuteAsync("ALTER TABLE extra.hot ADD COLUMN more INT NOT NULL DEFAULT 7");
            middleGtid = Convert.ToString(await _source.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos"))!;
            await _source.ExecuteAsync("""
                START TRANSACTION;
                INSERT INTO extra.big SELECT seq, REPEAT(CHAR(65 + seq % 26), 1000) FROM extra.seq_1_to_12000;
                UPDATE extra.hot SET v = v + 1000 WHERE id = 1;
                COMMIT;
                """);
            await _source.ExecuteAsync("FLUSH BINARY LOGS"); // replay crosses a rotation
            await WaitForOrdersAsync(workload, checkpoints[0].LastOrderId + 300);
            stop.Cancel();
            await Task.WhenAll(extra);
            await workload.StopAsync();
            Assert.Empty(workload.Errors);
        }

        await BinlogShipper.ShipAsync(_repo.Context, Root(_source), new ShipOptions(4242), _ => Task.CompletedTask, null, CancellationToken.None);
        var chain = (await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None)).Current;
        var file = (string)full.Backup.Manifest!.Source["binlogFile"]!;
        var position = (long)full.Backup.Manifest.Source["binlogPosition"]!;
        // The GTID right after the ALTER: the next transaction of its domain.
        var parts = middleGtid.Split('-');
        var afterAlter = $"{parts[0]}-{parts[1]}-{long.Parse(parts[2]) + 25}";

        var stops = new (string Name, ReplayOptions Options)[]
        {
            ("checkpoint", new ReplayOptions(StopAtPosition: new BinlogCoordinate(checkpoints[0].BinlogFile, checkpoints[0].BinlogPosition))),
            ("before a GTID after the DDL", new ReplayOptions(StopBeforeGtid: afterAlter)),
            ("a target time", new ReplayOptions(TargetTime: new DateTimeOffset(checkpoints[0].UtcTime, TimeSpan.Zero).AddSeconds(1))),
            ("end of the binlog", new ReplayOptions()),
        };
        foreach (var (name, options) in stops)
        {
            var serial = await ReplayIntoFreshAsync(full, chain, file, position, options);
            var parallel = await ReplayIntoFreshAsync(full, chain, file, position, options with { ThreadCount = 6 });
            try
            {
                Assert.Equal(1, serial.Result.Threads);
                Assert.Equal(6, parallel.Result.Threads);
                Assert.Equal("parallel", parallel.Result.Mode);
                Assert.True(parallel.Result.ParallelTransactions > 100, $"{name}: {parallel.Result.ParallelTransactions} transactions ran on the workers");
                Assert.True(parallel.Result.AverageConcurrency >= 1, $"{name}: {parallel.Result.AverageConcurrency} transactions at once");
                Console.WriteLine($"{name}: {parallel.Result.ParallelTransactions} transactions on the workers, {parallel.Result.AverageConcurrency} at once, {parallel.Result.Retries} retried");
                Assert.Equal((serial.Result.Transactions, serial.Result.LastGtid, serial.Result.LastPosition, serial.Result.StoppedBecause),
                    (parallel.Result.Transactions, parallel.Result.LastGtid, parallel.Result.LastPosition, parallel.Result.StoppedBecause));
                Assert.Equal(await SchemaDigests.OfAsync(serial.Server, "ecommerce"), await SchemaDigests.OfAsync(parallel.Server, "ecommerce"));
                Assert.Equal(await SchemaDigests.OfAsync(serial.Server, "extra"), await SchemaDigests.OfAsync(parallel.Server, "extra"));
                Assert.Equal(Convert.ToString(await serial.Server.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos")),
                    Convert.ToString(await parallel.Server.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos")));
                if (name == "checkpoint")
                {
                    Assert.Equal(checkpoints[0].TableChecksums, await ShopInspector.ChecksumsAsync(parallel.Server.RootConnectionString, "ecommerce"));
                }

                if (name == "end of the binlog")
                {
                    Assert.Equal(await SchemaDigests.OfAsync(_source, "ecommerce"), await SchemaDigests.OfAsync(parallel.Server, "ecommerce"));
                    Assert.Equal(await SchemaDigests.OfAsync(_source, "extra"), await SchemaDigests.OfAsync(parallel.Server, "extra"));
                }
            }
            finally
            {
                await serial.Server.DisposeAsync();
                await parallel.Server.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AKilledWorkerConnectionStopsReplayAtTheLastTransactionCommittedInOrder()
    {
        var (full, chain, file, position, victimGtid, beforeVictim) = await HotRowHistoryAsync();
        await using var target = await RestoredAsync(full);
        await using var blocker = await target.OpenRootAsync();
        await using var hold = await blocker.BeginTransactionAsync();
        await Exec(blocker, "SELECT * FROM shop.hot WHERE id = 999 FOR UPDATE", hold);

        var replay = BinlogReplayer.ReplayAsync(Root(target), SegmentEvents.ReadAsync(_repo.Context, chain, file, position, CancellationToken.None),
            new ReplayOptions(ThreadCount: 4), null, CancellationToken.None);
        var waiting = await WaitForLockWaitAsync(target, replay);
        await target.ExecuteAsync($"KILL CONNECTION {waiting}");
        var error = await Assert.ThrowsAsync<EcomDrException>(() => replay);
        await hold.RollbackAsync();

        Assert.Equal(ErrorIds.ReplayFailed, error.ErrorId);
        Assert.Contains($"the last {beforeVictim} ending at", error.Message, StringComparison.Ordinal);
        Assert.Contains($"GTID {victimGtid}", error.Message, StringComparison.Ordinal);
        Assert.Equal(beforeVictim, Convert.ToString(await target.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos")));

        // Exactly what serial replay to right before the victim leaves.
        await using var serial = await RestoredAsync(full);
        await BinlogReplayer.ReplayAsync(Root(serial), SegmentEvents.ReadAsync(_repo.Context, chain, file, position, CancellationToken.None),
            new ReplayOptions(StopBeforeGtid: victimGtid), null, CancellationToken.None);
        Assert.Equal(await SchemaDigests.OfAsync(serial, "shop"), await SchemaDigests.OfAsync(target, "shop"));
    }

    [Fact]
    public async Task ATransactionChosenAsADeadlockVictimIsRetriedInOrderAndAppliedOnce()
    {
        var (full, chain, file, position, victimGtid, _) = await HotRowHistoryAsync();
        await using var target = await RestoredAsync(full);
        await using var blocker = await target.OpenRootAsync();
        await Exec(blocker, "SET SESSION sql_log_bin = 0; CREATE DATABASE heavy; CREATE TABLE heavy.t (id INT PRIMARY KEY) ENGINE=InnoDB", null);
        await using var hold = await blocker.BeginTransactionAsync();
        // Heavier than any replayed transaction: InnoDB picks the lighter one as the deadlock's victim.
        await Exec(blocker, "INSERT INTO heavy.t SELECT seq FROM heavy.seq_1_to_2000", hold);
        await Exec(blocker, "SELECT * FROM shop.hot WHERE id = 999 FOR UPDATE", hold);

        var replay = BinlogReplayer.ReplayAsync(Root(target), SegmentEvents.ReadAsync(_repo.Context, chain, file, position, CancellationToken.None),
            new ReplayOptions(ThreadCount: 4), null, CancellationToken.None);
        await WaitForLockWaitAsync(target, replay);
        // The victim holds row 998 and waits for 999; asking for 998 closes the cycle.
        await Exec(blocker, "SELECT * FROM shop.hot WHERE id = 998 FOR UPDATE", hold);
        await hold.CommitAsync();
        var result = await replay;

        Assert.True(result.Retries >= 1, $"{result.Retries} retries");
        Assert.Equal(Convert.ToString(await _source.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos")), Convert.ToString(await target.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos")));
        // Applied once: row 998 and 999 carry the victim's one increment, as on the source.
        Assert.Equal(await SchemaDigests.OfAsync(_source, "shop"), await SchemaDigests.OfAsync(target, "shop"));
        Assert.NotEqual(victimGtid, result.LastGtid);
    }

    [Fact]
    public async Task TableShapesFollowForeignKeysAndACycleOfThemEnds()
    {
        await _source.ExecuteAsync("""
            CREATE DATABASE cyc;
            CREATE TABLE cyc.a (id INT PRIMARY KEY, b_id INT, code VARCHAR(10) COLLATE utf8mb4_bin NOT NULL, UNIQUE KEY by_code (code));
            CREATE TABLE cyc.b (id INT PRIMARY KEY, a_id INT);
            ALTER TABLE cyc.a ADD FOREIGN KEY (b_id) REFERENCES cyc.b (id);
            ALTER TABLE cyc.b ADD FOREIGN KEY (a_id) REFERENCES cyc.a (id);
            CREATE TABLE cyc.nokey (x INT);
            CREATE TABLE cyc.memo (id INT PRIMARY KEY) ENGINE=MEMORY;
            """);
        await using var wire = await EcomDr.Engine.Sources.MySql.Wire.WireConnection.OpenAsync(Root(_source), CancellationToken.None);
        var tables = new TargetTables(wire);

        var a = (await tables.GetAsync("cyc", "a", CancellationToken.None))!;
        Assert.Equal(new[] { "PRIMARY", "by_code" }, a.Keys.Select(k => k.Name).Order(StringComparer.Ordinal));
        Assert.Equal(new[] { false }, a.Keys.Single(k => k.Name == "by_code").Collated); // a _bin collation compares bytes
        Assert.Equal("cyc.b", Assert.Single(a.Parents).ParentTable);
        Assert.Empty(a.WholeTable);
        // b was read inside a's reading, met a again, and is held whole with it rather than read forever.
        Assert.Equal(new[] { "cyc.a", "cyc.b" }, (await tables.GetAsync("cyc", "b", CancellationToken.None))!.WholeTable.Order(StringComparer.Ordinal));
        Assert.Equal(new[] { "cyc.nokey" }, (await tables.GetAsync("cyc", "nokey", CancellationToken.None))!.WholeTable);
        Assert.False((await tables.GetAsync("cyc", "memo", CancellationToken.None))!.Transactional);
        Assert.Null(await tables.GetAsync("cyc", "missing", CancellationToken.None));
    }

    /// <summary>
    /// A full backup, then 400 small transactions from four writers on hot rows and a log table,
    /// with one transaction in the middle (the victim) that updates row 998, then row 999. Returns the
    /// victim's GTID and the GTID before it.
    /// </summary>
    private async Task<(DumpResult Full, IReadOnlyList<BinlogSegment> Chain, string File, long Position, string Victim, string Before)> HotRowHistoryAsync()
    {
        await _source.ExecuteAsync("""
            CREATE DATABASE shop;
            CREATE TABLE shop.hot (id INT PRIMARY KEY, v INT NOT NULL);
            INSERT INTO shop.hot SELECT seq, 0 FROM shop.seq_1_to_20;
            INSERT INTO shop.hot VALUES (998, 0), (999, 0);
            CREATE TABLE shop.log (id INT AUTO_INCREMENT PRIMARY KEY, writer INT, n INT);
            """);
        var full = await MySqlDumper.RunAsync(_repo.Context, Root(_source), new DumpOptions(new[] { "shop" }, ThreadCount: 1), null, CancellationToken.None);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(() => SmallWritesAsync(w, 50))));
        string before, victim;
        await using (var c = await _source.OpenRootAsync())
        {
            await Exec(c, "START TRANSACTION; UPDATE shop.hot SET v = v + 1 WHERE id = 998; UPDATE shop.hot SET v = v + 1 WHERE id = 999; COMMIT", null);
            victim = Convert.ToString(await new MySqlCommand("SELECT @@GLOBAL.gtid_binlog_pos", c).ExecuteScalarAsync())!;
        }

        var p = victim.Split('-');
        before = $"{p[0]}-{p[1]}-{long.Parse(p[2]) - 1}";
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(() => SmallWritesAsync(w, 50))));
        await BinlogShipper.ShipAsync(_repo.Context, Root(_source), new ShipOptions(4242), _ => Task.CompletedTask, null, CancellationToken.None);
        var chain = (await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None)).Current;
        return (full, chain, (string)full.Backup.Manifest!.Source["binlogFile"]!, (long)full.Backup.Manifest.Source["binlogPosition"]!, victim, before);
    }

    private async Task SmallWritesAsync(int writer, int count)
    {
        await using var c = await _source.OpenRootAsync();
        for (var i = 0; i < count; i++)
        {
            await Exec(c, $"START TRANSACTION; UPDATE shop.hot SET v = v + 1 WHERE id = {1 + (writer * 7 + i) % 20}; INSERT INTO shop.log (writer, n) VALUES ({writer}, {i}); COMMIT", null);
        }
    }

    /// <summary>Hot rows, a table without a primary key, and a cascading foreign key, written beside the shop workload.</summary>
    private async Task ExtraWriterAsync(int writer, CancellationToken stop)
    {
        await using var c = await _source.OpenRootAsync("extra");
        var random = new Random(writer);
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var cart = writer * 100000 + i;
            await Exec(c, random.Next(4) switch
            {
                0 => $"UPDATE hot SET v = v + 1 WHERE id = {1 + random.Next(5)}",
                1 => $"INSERT INTO journal VALUES ({i}, 'writer {writer}'); UPDATE journal SET what = CONCAT(what, '+') WHERE at = {i / 2}",
                2 => $"START TRANSACTION; INSERT INTO cart VALUES ({cart}, {writer}); INSERT INTO cart_line VALUES ({cart * 2}, {cart}, 1), ({cart * 2 + 1}, {cart}, 2); COMMIT",
                _ => $"UPDATE cart_line SET qty = qty + 1 WHERE cart_id = {cart - 1}; DELETE FROM cart WHERE id = {cart - 2}",
            }, null);
        }
    }

    private async Task WaitForOrdersAsync(ShopWorkload workload, long orders)
    {
        // A state, not a time: the workload has placed that many orders.
        while (workload.OrdersPlaced < orders && workload.Errors.Count == 0)
        {
            await Task.Delay(20);
        }

        Assert.Empty(workload.Errors);
    }

    private async Task<MariaDbServer> RestoredAsync(DumpResult full)
    {
        var target = await MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 7, GtidDomainId = 7 });
        var options = new RestoreOptions(NoBinlog: true);
        var plan = await RestorePlan.CreateAsync(_repo.Context, full.Backup, options, CancellationToken.None);
        await MySqlRestorer.RunAsync(_repo.Context, plan, Root(target), options, null, CancellationToken.None);
        return target;
    }

    private async Task<(MariaDbServer Server, ReplayResult Result)> ReplayIntoFreshAsync(DumpResult full, IReadOnlyList<BinlogSegment> chain, string file, long position,
        ReplayOptions options)
    {
        var target = await RestoredAsync(full);
        var result = await BinlogReplayer.ReplayAsync(Root(target), SegmentEvents.ReadAsync(_repo.Context, chain, file, position, CancellationToken.None),
            options, null, CancellationToken.None);
        return (target, result);
    }

    /// <summary>The connection of the replay transaction waiting for a row lock, once there is one: a state, not a time.</summary>
    private static async Task<long> WaitForLockWaitAsync(MariaDbServer target, Task replay)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (replay.IsCompleted)
            {
                await replay; // its failure, if it failed
                Assert.Fail("replay ended without waiting for the held row");
            }

            var id = await target.ScalarAsync("SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT' LIMIT 1");
            if (id is not null and not DBNull)
            {
                return Convert.ToInt64(id);
            }

            if (DateTime.UtcNow > deadline)
            {
                await using var c = await target.OpenRootAsync();
                await using var cmd = new MySqlCommand("SELECT CONCAT_WS(' | ', ID, COMMAND, STATE, LEFT(INFO, 80)) FROM information_schema.PROCESSLIST", c);
                var sessions = new List<string>();
                await using (var reader = await cmd.ExecuteReaderAsync())
                {
                    while (await reader.ReadAsync())
                    {
                        sessions.Add(reader.GetString(0));
                    }
                }

                Assert.Fail($"no replay transaction waited for the held row within a minute; sessions: {string.Join("; ", sessions)}");
            }

            // InnoDB refreshes INNODB_TRX only when nobody has read it for 100 ms: polling faster would read a stale copy forever.
            await Task.Delay(150);
        }
    }

    private static async Task Exec(MySqlConnection c, string sql, MySqlTransaction? transaction)
    {
        await using var cmd = new MySqlCommand(sql, c, transaction);
        await cmd.ExecuteNonQueryAsync();
    }
}
