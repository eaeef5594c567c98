using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Load;
using EcomDr.Engine.Sources.MySql.Pitr;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.TestKit.Differential;
using EcomDr.TestKit.Servers;
using MySqlConnector;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>
/// What a recovery refuses, and what a failed one leaves: a statement writing inside and outside the
/// restored schema stops replay before it (named with its GTID; -SkipGtid goes past it); stop points
/// that are not ones are refused before anything changes; a damaged chunk is found before the target
/// is touched (-VerifyFirst) or, found later, what the restore created is removed (unless -KeepFailed)
/// and the record keeps the reason.
/// </summary>
public sealed class PitrSafetyTests : IAsyncLifetime
{
    private MariaDbServer _source = null!;
    private MariaDbServer _target = null!;
    private RepoFixture _repo = null!;

    public async Task InitializeAsync()
    {
        _source = await MariaDbServer.StartAsync();
        _target = await MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 7, GtidDomainId = 7 });
        _repo = new RepoFixture(frameSize: 1 << 16);
        await _source.ExecuteAsync(StatementCorpus.Setup);
    }

    public async Task DisposeAsync()
    {
        _repo.Dispose();
        await _target.DisposeAsync();
        await _source.DisposeAsync();
    }

    private static MySqlEndpoint Root(MariaDbServer server) => new("127.0.0.1", server.Port, "root", Secret.Empty, "None");

    private Task<DumpResult> BackupAsync(int chunkRows = 0) =>
        MySqlDumper.RunAsync(_repo.Context, Root(_source), new DumpOptions(new[] { StatementCorpus.Schema }, ThreadCount: 2, ChunkRows: chunkRows == 0 ? 100_000 : chunkRows), null, CancellationToken.None);

    private Task ShipAsync() => BinlogShipper.ShipAsync(_repo.Context, Root(_source), new ShipOptions(4242, Rotate: true), _ => Task.CompletedTask, null, CancellationToken.None);

    [Theory]
    [InlineData("DROP TABLE shop.a, other.src", "DROP TABLE")]
    [InlineData("RENAME TABLE shop.a TO other.a", "RENAME TABLE")]
    public async Task AStatementWritingInsideAndOutsideIsRefusedBeforeItAndSkipGtidGoesPastIt(string mixed, string verb)
    {
        var logged = verb == "DROP TABLE" ? "DROP TABLE `shop`.`a`,`other`.`src`" : mixed; // the server logs its own spelling of a DROP
        await BackupAsync();
        await _source.ExecuteAsync("INSERT INTO shop.t VALUES (10, 'before', 0)");
        var before = await SchemaState.ReadAsync(_source.RootConnectionString, "shop");
        await _source.ExecuteAsync(mixed);
        var gtid = Convert.ToString(await _source.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos"))!;
        await _source.ExecuteAsync("INSERT INTO shop.t VALUES (11, 'after', 0)");
        var after = await SchemaState.ReadAsync(_source.RootConnectionString, "shop");
        await ShipAsync();

        var plan = await PitrRestorer.PlanAsync(_repo.Context, new PitrOptions(), CancellationToken.None);
        var refused = await Assert.ThrowsAsync<EcomDrException>(() => PitrRestorer.RunAsync(_repo.Context, plan, Root(_target), null, null, CancellationToken.None));
        Assert.Equal("EcomDr.ReplayWritesOutsideTarget", refused.ErrorId);
        Assert.Equal(FailureKind.InvalidOperation, refused.Kind);
        Assert.Contains($"GTID {gtid}", refused.Message, StringComparison.Ordinal);
        Assert.Contains(verb, refused.Message, StringComparison.Ordinal);
        Assert.Contains(logged, refused.Message, StringComparison.Ordinal);
        Assert.Contains("table `shop`.`a`", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"-SkipGtid '{gtid}'", refused.Message, StringComparison.Ordinal);
        // Nothing half-restored: the schema the recovery created is gone, the record says why.
        Assert.DoesNotContain("shop", await SchemaState.SchemasAsync(_target.RootConnectionString));
        Assert.Equal("failed", Convert.ToString(await _target.ScalarAsync("SELECT state FROM ecomdr.restore_state WHERE schema_name = 'shop'")));
        Assert.Contains("dropped the schema `shop`", Convert.ToString(await _target.ScalarAsync("SELECT message FROM ecomdr.restore_state WHERE schema_name = 'shop'")));

        // Kept for forensics, it holds exactly what came before the refused statement. The first attempt left its
        // GTIDs in the target's binlog: this one notices and replays under the target's own.
        var kept = await PitrRestorer.PlanAsync(_repo.Context, new PitrOptions(Restore: new RestoreOptions(KeepFailed: true)), CancellationToken.None);
        var again = await Assert.ThrowsAsync<EcomDrException>(() => PitrRestorer.RunAsync(_repo.Context, kept, Root(_target), null, null, CancellationToken.None));
        Assert.Equal("EcomDr.ReplayWritesOutsideTarget", again.ErrorId);
        Assert.Empty(before.Differences(await SchemaState.ReadAsync(_target.RootConnectionString, "shop")));
        Assert.Equal("incomplete", Convert.ToString(await _target.ScalarAsync("SELECT state FROM ecomdr.restore_state WHERE schema_name = 'shop'")));

        // Knowingly past it: the rest is applied, the statement is recorded as left out.
        await _target.ResetAsync();
        var skipping = await PitrRestorer.PlanAsync(_repo.Context, new PitrOptions(SkipGtids: new[] { gtid }), CancellationToken.None);
        var result = await PitrRestorer.RunAsync(_repo.Context, skipping, Root(_target), null, null, CancellationToken.None);
        Assert.True(result.GtidsKept);
        Assert.Contains(result.Skipped, s => s.Gtid == gtid && s.Reason.Contains("-SkipGtid", StringComparison.Ordinal));
        var restored = await SchemaState.ReadAsync(_target.RootConnectionString, "shop");
        Assert.Equal(after.Entries["table t"], restored.Entries["table t"]);
        Assert.True(restored.Entries.ContainsKey("table a"), "the statement left out did not run");
    }

    [Fact]
    public async Task AReplayFailingOnTheTargetTellsOneCountAndTheTargetsTrueState()
    {
        await BackupAsync();
        foreach (var id in new[] { 100, 101, 102 })
        {
            await _source.ExecuteAsync($"INSERT INTO shop.t VALUES ({id}, 'ok', 0)");
        }

        await _source.ExecuteAsync("INSERT INTO shop.t VALUES (103, 'clashes', 0)");
        await _source.ExecuteAsync("INSERT INTO shop.t VALUES (104, 'never', 0)");
        await ShipAsync();

        // Someone writes into the target between the full restore and the replay: the fourth insert clashes.
        var plan = await PitrRestorer.PlanAsync(_repo.Context, new PitrOptions(Restore: new RestoreOptions(KeepFailed: true)), CancellationToken.None);
        var failed = await Assert.ThrowsAsync<EcomDrException>(() => PitrRestorer.RunAsync(_repo.Context, plan, Root(_target), null, null, CancellationToken.None,
            ct => _target.ExecuteAsync("SET SESSION sql_log_bin = 0; INSERT INTO shop.t VALUES (103, 'in the way', 0)")));
        Assert.Equal(ErrorIds.ReplayFailed, failed.ErrorId);
        Assert.Contains("3 transaction(s) were applied before it", failed.Message, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(failed.Message, @"transaction\(s\)"));
        Assert.Contains("was kept (-KeepFailed) and is marked incomplete", failed.Message, StringComparison.Ordinal);
        Assert.Equal(3L, Convert.ToInt64(await _target.ScalarAsync("SELECT COUNT(*) FROM shop.t WHERE id BETWEEN 100 AND 102")));
        Assert.Equal("in the way", Convert.ToString(await _target.ScalarAsync("SELECT v FROM shop.t WHERE id = 103")));
        Assert.Equal(0L, Convert.ToInt64(await _target.ScalarAsync("SELECT COUNT(*) FROM shop.t WHERE id = 104")));

        // Without -KeepFailed the same failure removes the schema, and says so instead.
        await _target.ResetAsync();
        var fresh = await PitrRestorer.PlanAsync(_repo.Context, new PitrOptions(), CancellationToken.None);
        var undone = await Assert.ThrowsAsync<EcomDrException>(() => PitrRestorer.RunAsync(_repo.Context, fresh, Root(_target), null, null, CancellationToken.None,
            ct => _target.ExecuteAsync("SET SESSION sql_log_bin = 0; INSERT INTO shop.t VALUES (103, 'in the way', 0)")));
        Assert.Equal(ErrorIds.ReplayFailed, undone.ErrorId);
        Assert.Contains("dropped the schema `shop`", undone.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("incomplete", undone.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopPointsThatAreNotOnesAreRefusedBeforeAnythingChanges()
    {
        await BackupAsync();
        await _source.ExecuteAsync("INSERT INTO shop.t VALUES (10, 'x', 0)");
        await ShipAsync();
        var chain = (await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None)).Current;
        var cases = new (PitrOptions Options, string ErrorId, string Named)[]
        {
            (new PitrOptions(StopBeforeGtid: "banana;DROP"), ErrorIds.InvalidStopPoint, "'banana;DROP'"),
            (new PitrOptions(StopBeforeGtid: "0-1"), ErrorIds.InvalidStopPoint, "'0-1'"),
            (new PitrOptions(StopBeforeGtid: "3e11fa47-71ca-11e1-9e33-c80aa9429562:tag-x:5"), ErrorIds.InvalidStopPoint, "tag-x"),
            (new PitrOptions(SkipGtids: new[] { "0-1-2; DROP" }), ErrorIds.InvalidStopPoint, "'0-1-2; DROP'"),
            (new PitrOptions(StopAtPosition: new BinlogCoordinate("binlog.999999", 4)), ErrorIds.InvalidStopPoint, "'binlog.999999:4' names a file that was never shipped"),
            (new PitrOptions(StopAtPosition: new BinlogCoordinate(chain[^1].File, chain[^1].EndOffset + 1000)), ErrorIds.TargetNotReachable, $"'{chain[^1].File}:{chain[^1].EndOffset + 1000}'"),
            (new PitrOptions(StopAtPosition: new BinlogCoordinate(chain[^1].File, 1)), ErrorIds.InvalidStopPoint, $"'{chain[^1].File}:1'"),
            (new PitrOptions(TargetTime: DateTimeOffset.UtcNow.AddDays(1)), ErrorIds.TargetNotReachable, "The shipped binlog ends before"),
            (new PitrOptions(TargetTime: DateTimeOffset.UtcNow.AddDays(-1)), ErrorIds.BackupNotFound, "No complete full backup was taken before"),
        };
        foreach (var (options, errorId, named) in cases)
        {
            var error = await Assert.ThrowsAsync<EcomDrException>(() => PitrRestorer.PlanAsync(_repo.Context, options, CancellationToken.None));
            Assert.Equal(errorId, error.ErrorId);
            Assert.Contains(named, error.Message, StringComparison.Ordinal);
        }

        Assert.Empty(await SchemaState.SchemasAsync(_target.RootConnectionString)); // planning never touched a server
    }

    [Fact]
    public async Task ADamagedChunkIsFoundBeforeTheTargetIsTouchedOrWhatWasCreatedIsRemoved()
    {
        await _source.ExecuteAsync("CREATE TABLE shop.z (id INT PRIMARY KEY, pad VARCHAR(200)); INSERT INTO shop.z SELECT seq, REPEAT('p', 200) FROM shop.seq_1_to_3000");
        var full = await BackupAsync(chunkRows: 500);
        var victim = full.Backup.Manifest!.Artifacts.Where(a => a.Name.StartsWith("data/shop/z.", StringComparison.Ordinal)).OrderBy(a => a.Name).Last();
        var path = _repo.PathOf(full.Backup.Prefix + victim.Path);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0x10;
        await File.WriteAllBytesAsync(path, bytes);
        var plan = await RestorePlan.CreateAsync(_repo.Context, full.Backup, new RestoreOptions(), CancellationToken.None);

        // -VerifyFirst: refused with the artifact named, the target untouched (no schema, no record).
        var first = await Assert.ThrowsAsync<EcomDrException>(() => MySqlRestorer.RunAsync(_repo.Context, plan, Root(_target), new RestoreOptions(VerifyFirst: true), null, CancellationToken.None));
        Assert.Equal(ErrorIds.ArtifactHashMismatch, first.ErrorId);
        Assert.Contains(victim.Name, first.Message, StringComparison.Ordinal);
        Assert.Empty(await SchemaState.SchemasAsync(_target.RootConnectionString));

        // Without it the damage is found as the chunk streams in: what the restore created is removed, and the record says why.
        var late = await Assert.ThrowsAsync<EcomDrException>(() => MySqlRestorer.RunAsync(_repo.Context, plan, Root(_target), new RestoreOptions(VerifyFirst: false), null, CancellationToken.None));
        Assert.Equal(ErrorIds.ArtifactHashMismatch, late.ErrorId);
        Assert.Contains("dropped the schema `shop` it had created", late.Message, StringComparison.Ordinal);
        Assert.Equal(new[] { "ecomdr" }, await SchemaState.SchemasAsync(_target.RootConnectionString));
        await using var c = await _target.OpenRootAsync();
        var state = await RestoreMarker.ReadAsync(c, "shop", CancellationToken.None);
        Assert.Equal(RestoreMarker.Failed, state!.State);
        Assert.Contains(victim.Name, state.Message, StringComparison.Ordinal);

        // Into a schema that existed (empty), only what the restore added is dropped.
        await _target.ExecuteAsync("CREATE DATABASE shop; CREATE PROCEDURE shop.keep_me() SELECT 1");
        await Assert.ThrowsAsync<EcomDrException>(() => MySqlRestorer.RunAsync(_repo.Context, plan, Root(_target), new RestoreOptions(VerifyFirst: false), null, CancellationToken.None));
        var left = await SchemaState.ReadAsync(_target.RootConnectionString, "shop");
        Assert.Equal(new[] { "procedure keep_me" }, left.Entries.Keys.ToArray());
    }
}
