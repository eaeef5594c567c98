using EcomDr.Engine.Credentials;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Load;
using EcomDr.Engine.Sources.MySql.Pitr;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.TestKit.Servers;
using EcomDr.TestKit.Shop;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>
/// Binlog replay on real MariaDB servers: a full backup, then the shipped binlog of a concurrent
/// workload, replayed to checkpoints the workload recorded; every table must equal its checkpoint.
/// </summary>
public sealed class ReplayTests : IAsyncLifetime
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
    public async Task ReplayToEachCheckpointReproducesItExactlyWithItsGtidState()
    {
        await ShopGenerator.CreateAsync(_source.RootConnectionString, "ecommerce", new ShopSize(300, 40, 2000), seed: 21);
        var full = await MySqlDumper.RunAsync(_repo.Context, Root(_source), new DumpOptions(new[] { "ecommerce" }, ThreadCount: 2, ChunkRows: 1000), null, CancellationToken.None);

        var checkpoints = new List<ShopCheckpoint>();
        await using (var workload = ShopWorkload.Start(_source.RootConnectionString, "ecommerce", workers: 3, transactionsPerSecond: 200, seed: 5))
        {
            for (var i = 0; i < 3; i++)
            {
                await Task.Delay(700);
                checkpoints.Add(await workload.CheckpointAsync());
                await _source.ExecuteAsync("FLUSH BINARY LOGS"); // replay crosses rotations
            }

            await Task.Delay(500);
            await workload.StopAsync();
            Assert.Empty(workload.Errors);
        }

        await BinlogShipper.ShipAsync(_repo.Context, Root(_source), new ShipOptions(4242), _ => Task.CompletedTask, null, CancellationToken.None);
        var chain = (await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None)).Current;
        var file = (string)full.Backup.Manifest!.Source["binlogFile"]!;
        var position = (long)full.Backup.Manifest.Source["binlogPosition"]!;

        foreach (var checkpoint in checkpoints)
        {
            await using var target = await MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 7, GtidDomainId = 7 });
            await RestoreAsync(full, target);

            var result = await BinlogReplayer.ReplayAsync(Root(target), SegmentEvents.ReadAsync(_repo.Context, chain, file, position, CancellationToken.None),
                new ReplayOptions(StopAtPosition: new BinlogCoordinate(checkpoint.BinlogFile, checkpoint.BinlogPosition)), null, CancellationToken.None);

            Assert.Equal(checkpoint.TableChecksums, await ShopInspector.ChecksumsAsync(target.RootConnectionString, "ecommerce"));
            Assert.Equal(checkpoint.GtidPosition, result.LastGtid);
            // The original GTIDs were kept: the restored server's binlog state is the source's at the checkpoint.
            Assert.Equal(checkpoint.GtidPosition, Convert.ToString(await target.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos")));
            Assert.Empty(await ShopInspector.VerifyInvariantsAsync(target.RootConnectionString, "ecommerce"));
        }
    }

    [Fact]
    public async Task ATargetTimeKeepsExactlyTheTransactionsTheStockToolKeeps()
    {
        await ShopGenerator.CreateAsync(_source.RootConnectionString, "ecommerce", new ShopSize(200, 30, 1000), seed: 23);
        var full = await MySqlDumper.RunAsync(_repo.Context, Root(_source), new DumpOptions(new[] { "ecommerce" }, ThreadCount: 2, ChunkRows: 1000), null, CancellationToken.None);
        DateTimeOffset target;
        await using (var workload = ShopWorkload.Start(_source.RootConnectionString, "ecommerce", workers: 3, transactionsPerSecond: 150, seed: 7))
        {
            await Task.Delay(1600);
            target = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()); // a second boundary mid-workload
            await _source.ExecuteAsync("FLUSH BINARY LOGS");
            await Task.Delay(1600);
            await workload.StopAsync();
            Assert.Empty(workload.Errors);
        }

        await BinlogShipper.ShipAsync(_repo.Context, Root(_source), new ShipOptions(4242, Rotate: true), _ => Task.CompletedTask, null, CancellationToken.None);
        var file = (string)full.Backup.Manifest!.Source["binlogFile"]!;
        var position = (long)full.Backup.Manifest.Source["binlogPosition"]!;
        var chain = (await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None)).Current;

        // EcomDr: the last transaction known to have committed at or before the target. MariaDB records the
        // second a statement started, so what it recorded in the target's own second may have committed after it.
        await using var ours = await MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 7, GtidDomainId = 7 });
        await RestoreAsync(full, ours);
        {
            var result = await BinlogReplayer.ReplayAsync(Root(ours), SegmentEvents.ReadAsync(_repo.Context, chain, file, position, CancellationToken.None),
                new ReplayOptions(TargetTime: target), null, CancellationToken.None);
            Assert.True(result.LastCommitTime < target);
            Assert.StartsWith("target time", result.StoppedBecause, StringComparison.Ordinal);
            Assert.True(result.Transactions > 10);
        }

        // The stock tools on the server's own files: events recorded before the target's second, piped into the client.
        await using var stock = await MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 8, GtidDomainId = 8 });
        await RestoreAsync(full, stock);
        var files = Directory.GetFiles(_source.DataDirectory, "binlog.0*").Order().Where(f => string.CompareOrdinal(Path.GetFileName(f), file) >= 0).ToList();
        var stop = target.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss");
        var pipe = $"TZ=UTC mariadb-binlog --no-defaults --start-position={position} --stop-datetime='{stop}' {string.Join(' ', files)} | mariadb --no-defaults -h 127.0.0.1 -P {stock.Port} -u root";
        using (var bash = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("bash", new[] { "-c", pipe }) { RedirectStandardError = true })!)
        {
            var errors = await bash.StandardError.ReadToEndAsync();
            await bash.WaitForExitAsync();
            Assert.True(bash.ExitCode == 0, errors);
        }

        Assert.Equal(await ShopInspector.ChecksumsAsync(stock.RootConnectionString, "ecommerce"), await ShopInspector.ChecksumsAsync(ours.RootConnectionString, "ecommerce"));
        Assert.Empty(await ShopInspector.VerifyInvariantsAsync(ours.RootConnectionString, "ecommerce"));
    }

    [Fact]
    public async Task ReplayCarriesDdlABigStatementCascadesAndTriggersExactly()
    {
        await _source.ExecuteAsync("""
            CREATE DATABASE x;
            CREATE TABLE x.parent (id INT PRIMARY KEY, name VARCHAR(40));
            CREATE TABLE x.child (id INT PRIMARY KEY, parent_id INT NOT NULL, FOREIGN KEY (parent_id) REFERENCES x.parent (id) ON DELETE CASCADE);
            CREATE TABLE x.audit (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(60));
            CREATE TABLE x.big (id INT PRIMARY KEY, pad VARCHAR(1000));
            CREATE TRIGGER x.parent_audit AFTER INSERT ON x.parent FOR EACH ROW INSERT INTO x.audit (what) VALUES (CONCAT('parent ', NEW.id));
            """);
        var full = await MySqlDumper.RunAsync(_repo.Context, Root(_source), new DumpOptions(new[] { "x" }, ThreadCount: 2), null, CancellationToken.None);
        await _source.ExecuteAsync("""
            INSERT INTO x.parent VALUES (1, 'a'), (2, 'b'), (3, 'c');
            INSERT INTO x.child VALUES (10, 1), (11, 1), (20, 2), (30, 3);
            ALTER TABLE x.child ADD COLUMN note VARCHAR(20) NOT NULL DEFAULT 'n';
            UPDATE x.child SET note = 'after alter' WHERE id = 20;
            DELETE FROM x.parent WHERE id = 1;
            START TRANSACTION;
            INSERT INTO x.big SELECT seq, REPEAT(CHAR(65 + seq % 26), 1000) FROM x.seq_1_to_12000;
            INSERT INTO x.parent VALUES (4, 'd');
            COMMIT;
            FLUSH BINARY LOGS;
            UPDATE x.big SET pad = 'short' WHERE id % 7 = 0;
            CREATE DATABASE y;
            CREATE TABLE y.t (id INT PRIMARY KEY);
            INSERT INTO y.t VALUES (1);
            """);
        await BinlogShipper.ShipAsync(_repo.Context, Root(_source), new ShipOptions(4242), _ => Task.CompletedTask, null, CancellationToken.None);
        var chain = (await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None)).Current;

        await using var target = await MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 9, GtidDomainId = 9 });
        await RestoreAsync(full, target);
        {
            await BinlogReplayer.ReplayAsync(Root(target), SegmentEvents.ReadAsync(_repo.Context, chain, (string)full.Backup.Manifest!.Source["binlogFile"]!,
                (long)full.Backup.Manifest.Source["binlogPosition"]!, CancellationToken.None), new ReplayOptions(), null, CancellationToken.None);
        }

        // The 12 MB statement went in pieces; the cascade ran once; the trigger did not fire again on replayed rows.
        Assert.Equal(await SchemaDigests.OfAsync(_source, "x"), await SchemaDigests.OfAsync(target, "x"));
        Assert.Equal(await SchemaDigests.OfAsync(_source, "y"), await SchemaDigests.OfAsync(target, "y")); // a database created after the backup
        Assert.Equal(4L, Convert.ToInt64(await target.ScalarAsync("SELECT COUNT(*) FROM x.audit")));
        Assert.Equal("after alter", Convert.ToString(await target.ScalarAsync("SELECT note FROM x.child WHERE id = 20")));
        Assert.Equal(Convert.ToString(await _source.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos")), Convert.ToString(await target.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos")));
    }

    private async Task RestoreAsync(DumpResult full, MariaDbServer target)
    {
        var options = new RestoreOptions(NoBinlog: true);
        var plan = await RestorePlan.CreateAsync(_repo.Context, full.Backup, options, CancellationToken.None);
        await MySqlRestorer.RunAsync(_repo.Context, plan, Root(target), options, null, CancellationToken.None);
    }

    [Fact]
    public async Task ReplayIntoASideSchemaOnTheLiveServerLeavesTheLiveSchemaAlone()
    {
        await ShopGenerator.CreateAsync(_source.RootConnectionString, "ecommerce", new ShopSize(200, 30, 1000), seed: 22);
        var full = await MySqlDumper.RunAsync(_repo.Context, Root(_source), new DumpOptions(new[] { "ecommerce" }, ThreadCount: 2, ChunkRows: 1000), null, CancellationToken.None);
        ShopCheckpoint checkpoint;
        await using (var workload = ShopWorkload.Start(_source.RootConnectionString, "ecommerce", workers: 2, transactionsPerSecond: 150, seed: 6))
        {
            await Task.Delay(800);
            checkpoint = await workload.CheckpointAsync();
            await Task.Delay(400);
            await workload.StopAsync();
        }

        // A bad statement after the checkpoint: the side restore must stop before it.
        await _source.ExecuteAsync("DELETE FROM ecommerce.order_status_history WHERE id % 2 = 0");
        await BinlogShipper.ShipAsync(_repo.Context, Root(_source), new ShipOptions(4242), _ => Task.CompletedTask, null, CancellationToken.None);
        var liveBefore = await ShopInspector.ChecksumsAsync(_source.RootConnectionString, "ecommerce");

        var map = new Dictionary<string, string> { ["ecommerce"] = "ecommerce_restore" };
        var restoreOptions = new RestoreOptions(TargetSchema: "ecommerce_restore");
        var plan = await RestorePlan.CreateAsync(_repo.Context, full.Backup, restoreOptions, CancellationToken.None);
        await MySqlRestorer.RunAsync(_repo.Context, plan, Root(_source), restoreOptions, null, CancellationToken.None);
        var chain = (await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None)).Current;
        await BinlogReplayer.ReplayAsync(Root(_source), SegmentEvents.ReadAsync(_repo.Context, chain, (string)full.Backup.Manifest!.Source["binlogFile"]!,
                (long)full.Backup.Manifest.Source["binlogPosition"]!, CancellationToken.None),
            new ReplayOptions(StopAtPosition: new BinlogCoordinate(checkpoint.BinlogFile, checkpoint.BinlogPosition), SchemaMap: map, PreserveGtids: false), null, CancellationToken.None);

        Assert.Equal(checkpoint.TableChecksums, await ShopInspector.ChecksumsAsync(_source.RootConnectionString, "ecommerce_restore"));
        Assert.Equal(liveBefore, await ShopInspector.ChecksumsAsync(_source.RootConnectionString, "ecommerce"));
    }

    [Fact]
    public async Task OnlyTheBackupsSchemasAreReplayedAndACancelledRecoveryIsRecordedIncomplete()
    {
        await ShopGenerator.CreateAsync(_source.RootConnectionString, "ecommerce", new ShopSize(200, 30, 1000), seed: 23);
        await _source.ExecuteAsync("CREATE DATABASE other; CREATE TABLE other.t (id INT PRIMARY KEY, n INT NOT NULL); INSERT INTO other.t VALUES (1, 0), (2, 0)");
        // Shipped before the backup too: the backup's position falls in the file's second segment.
        await BinlogShipper.ShipAsync(_repo.Context, Root(_source), new ShipOptions(4242), _ => Task.CompletedTask, null, CancellationToken.None);
        await _source.ExecuteAsync("UPDATE ecommerce.inventory SET received = received + 1, on_hand = on_hand + 1 WHERE product_id = 1");
        var full = await MySqlDumper.RunAsync(_repo.Context, Root(_source), new DumpOptions(new[] { "ecommerce" }, ThreadCount: 2, ChunkRows: 1000), null, CancellationToken.None);
        await using (var workload = ShopWorkload.Start(_source.RootConnectionString, "ecommerce", workers: 2, transactionsPerSecond: 150, seed: 8))
        {
            // Another database on the same server changes meanwhile, alone and in statements that also change the shop.
            await _source.ExecuteAsync("""
                INSERT INTO other.t VALUES (3, 3);
                CREATE TABLE other.t2 (id INT PRIMARY KEY);
                UPDATE ecommerce.inventory i JOIN other.t o ON o.id = 1 SET i.received = i.received + 1, i.on_hand = i.on_hand + 1, o.n = o.n + 1 WHERE i.product_id <= 5;
                UPDATE other.t o JOIN ecommerce.inventory i ON i.product_id = 1 SET o.n = o.n + 1, i.received = i.received + 1, i.on_hand = i.on_hand + 1 WHERE o.id = 2;
                """);
            await Task.Delay(600);
            await workload.StopAsync();
        }

        await BinlogShipper.ShipAsync(_repo.Context, Root(_source), new ShipOptions(4242), _ => Task.CompletedTask, null, CancellationToken.None);
        var plan = await PitrRestorer.PlanAsync(_repo.Context, new PitrOptions(), CancellationToken.None);
        Assert.Equal(full.Backup.Id, plan.Backup.Id);
        Assert.Equal((plan.BinlogFile, 0L), (plan.Segments[0].File, plan.Segments[0].StartOffset));
        Assert.True(plan.Segments[1].StartOffset < plan.BinlogPosition && plan.Segments[1].File == plan.BinlogFile, "the backup falls in the file's second segment");

        // A fresh server without `other` (replaying its changes would fail there), the restore binlogged under
        // the server's own GTID domain: the original GTIDs are still applied, beside its own.
        await using (var target = await MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 8, GtidDomainId = 8 }))
        {
            var result = await PitrRestorer.RunAsync(_repo.Context, plan, Root(target), null, null, CancellationToken.None);
            Assert.Equal("end of the shipped binlog", result.StoppedBecause);
            Assert.Equal(await ShopInspector.ChecksumsAsync(_source.RootConnectionString, "ecommerce"), await ShopInspector.ChecksumsAsync(target.RootConnectionString, "ecommerce"));
            Assert.Equal(0L, Convert.ToInt64(await target.ScalarAsync("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'other'")));
            Assert.Equal("complete", Convert.ToString(await target.ScalarAsync("SELECT state FROM ecomdr.restore_state WHERE schema_name = 'ecommerce'")));
            var sourceGtid = Convert.ToString(await _source.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos"))!;
            var targetGtid = Convert.ToString(await target.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos"))!.Split(',');
            Assert.Contains(sourceGtid, targetGtid);
            Assert.Contains(targetGtid, g => g.StartsWith("8-8-", StringComparison.Ordinal));
        }

        // Ctrl+C during replay: what the recovery created is removed and the record says why.
        await using (var target = await MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 9, GtidDomainId = 9 }))
        {
            using var stop = new CancellationTokenSource();
            var progress = new Inline<ReplayProgress>(_ => stop.Cancel());
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => PitrRestorer.RunAsync(_repo.Context, plan, Root(target), null, progress, stop.Token));

            await using var c = await target.OpenRootAsync();
            var state = await RestoreMarker.ReadAsync(c, "ecommerce", CancellationToken.None);
            Assert.Equal((RestoreMarker.Failed, full.Backup.Id), (state!.State, state.BackupId));
            Assert.Matches(@"^cancelled after \d+ transaction\(s\), binlog time .* Then: dropped the schema `ecommerce` it had created", state.Message);
            Assert.Equal(0L, Convert.ToInt64(await target.ScalarAsync("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'ecommerce'")));
        }

        // With -KeepFailed it stays, recorded as incomplete: it fails validation and is not swapped in.
        await using (var target = await MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 9, GtidDomainId = 9 }))
        {
            using var stop = new CancellationTokenSource();
            var progress = new Inline<ReplayProgress>(_ => stop.Cancel());
            var keeping = plan with { Options = plan.Options with { Restore = new RestoreOptions(KeepFailed: true) } };
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => PitrRestorer.RunAsync(_repo.Context, keeping, Root(target), null, progress, stop.Token));

            await using var c = await target.OpenRootAsync();
            var state = await RestoreMarker.ReadAsync(c, "ecommerce", CancellationToken.None);
            Assert.Equal(("incomplete", full.Backup.Id), (state!.State, state.BackupId));
            Assert.Matches(@"^cancelled after \d+ transaction\(s\), binlog time ", state.Message);
            Assert.Matches(@"^binlog\.\d+:\d+$", state.Reached);
            var report = await EcomDr.Engine.Sources.MySql.Validation.RestoreValidator.RunAsync(Root(target), "ecommerce", new(), null, null, CancellationToken.None);
            Assert.False(report.Passed);
            Assert.Contains("incomplete at binlog.", report.Checks.Single(x => x.Name == "Restore finished").Evidence);
            var refused = await Assert.ThrowsAsync<EcomDr.Engine.Errors.EcomDrException>(() => SchemaSwap.PlanAsync(Root(target), "ecommerce", "ecommerce_live", false, DateTimeOffset.UtcNow, CancellationToken.None));
            Assert.Equal("EcomDr.RestoreIncomplete", refused.ErrorId);
        }
    }

    [Fact]
    public async Task StatementBasedTransactionsWithUserVariablesReplayExactly()
    {
        await _source.ExecuteAsync("CREATE DATABASE sb; CREATE TABLE sb.t (id INT PRIMARY KEY AUTO_INCREMENT, i BIGINT, u BIGINT UNSIGNED, r DOUBLE, s VARCHAR(40) CHARACTER SET utf8mb4, l VARCHAR(20) CHARACTER SET latin1, n INT)");
        var full = await MySqlDumper.RunAsync(_repo.Context, Root(_source), new DumpOptions(new[] { "sb" }, ThreadCount: 1), null, CancellationToken.None);
        await _source.ExecuteAsync("""
            SET SESSION binlog_format = 'STATEMENT';
            SET @i := -42, @u := CAST(18446744073709551615 AS UNSIGNED), @r := 0.1 + 0.2, @s := 'Ação ✓ "quoted" ''x''', @l := CONVERT('café' USING latin1), @n := NULL;
            INSERT INTO sb.t (i, u, r, s, l, n) VALUES (@i, @u, @r, @s, @l, @n);
            START TRANSACTION;
            SET @k := 7;
            UPDATE sb.t SET i = i + @k, s = CONCAT(s, @s) WHERE id = LAST_INSERT_ID();
            INSERT INTO sb.t (i, s) SELECT @k * 2, @l;
            COMMIT;
            """);
        await BinlogShipper.ShipAsync(_repo.Context, Root(_source), new ShipOptions(4242), _ => Task.CompletedTask, null, CancellationToken.None);
        var chain = (await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None)).Current;
        await using var target = await MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 10, GtidDomainId = 10 });
        await RestoreAsync(full, target);
        var events = SegmentEvents.ReadAsync(_repo.Context, chain, (string)full.Backup.Manifest!.Source["binlogFile"]!, (long)full.Backup.Manifest.Source["binlogPosition"]!, CancellationToken.None);
        var result = await BinlogReplayer.ReplayAsync(Root(target), events, new ReplayOptions(), null, CancellationToken.None);

        Assert.Equal(2, result.Transactions);
        Assert.Equal(await SchemaDigests.OfAsync(_source, "sb"), await SchemaDigests.OfAsync(target, "sb"));
        Assert.Equal("Ação ✓ \"quoted\" 'x'Ação ✓ \"quoted\" 'x'", Convert.ToString(await target.ScalarAsync("SELECT s FROM sb.t WHERE id = 1")));
    }

    /// <summary>Reports on the replaying thread, so a cancellation lands while replay runs.</summary>
    private sealed class Inline<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
