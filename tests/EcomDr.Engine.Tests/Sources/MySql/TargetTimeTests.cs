using EcomDr.Engine.Credentials;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Load;
using EcomDr.Engine.Sources.MySql.Pitr;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.TestKit.Servers;
using MySqlConnector;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>
/// -TargetTime on a real MariaDB, with real time (no SET timestamp): a writer commits a row every few
/// milliseconds, each stamped by the client just before it commits; CREATE TABLE … SELECT runs right
/// after a target time, and a slow one runs across another. Recovery to either time must hold no
/// change committed after it (no row stamped after it, no table created after it), and lose no more
/// than the second the binlog cannot resolve.
/// </summary>
public sealed class TargetTimeTests : IAsyncLifetime
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
    public async Task NothingCommittedAfterTheTargetTimeIsRestoredNotEvenACreateTableSelect()
    {
        await _source.ExecuteAsync("""
            CREATE DATABASE shop;
            CREATE TABLE shop.t (id INT PRIMARY KEY, v INT);
            CREATE TABLE shop.ticks (id INT AUTO_INCREMENT PRIMARY KEY, stamped DATETIME(6) NOT NULL);
            INSERT INTO shop.t VALUES (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6);
            """);
        await MySqlDumper.RunAsync(_repo.Context, Root(_source), new DumpOptions(new[] { "shop" }, ThreadCount: 2), null, CancellationToken.None);

        using var stop = new CancellationTokenSource();
        var writer = TickAsync(stop.Token);
        await WaitForTicksUntilAsync(DateTime.UtcNow.AddSeconds(3)); // seconds of history before each target
        // A user notes the time, then someone copies a table: the copy is after the target, in its second or not.
        var fast = DateTimeOffset.UtcNow;
        await _source.ExecuteAsync("CREATE TABLE shop.copy AS SELECT * FROM shop.t");
        await WaitForTicksUntilAsync(DateTime.UtcNow.AddSeconds(3));

        // A slow CREATE TABLE … SELECT (eight rows, half a second each) runs across the target time while the writer goes on.
        var slow = _source.ExecuteAsync("CREATE TABLE shop.slow AS SELECT id, SLEEP(0.5) AS s FROM shop.t, (SELECT 1 UNION SELECT 2) two WHERE id <= 4");
        var started = DateTime.UtcNow;
        await WaitForStatementAsync("CREATE TABLE shop.slow");
        await WaitForTicksUntilAsync(started.AddSeconds(1.2));
        var across = DateTimeOffset.UtcNow;
        Assert.True(await RunningAsync("CREATE TABLE shop.slow"), "the slow CREATE TABLE … SELECT ended before the target time was taken");
        await slow;
        await WaitForTicksUntilAsync(DateTime.UtcNow.AddSeconds(1));
        stop.Cancel();
        await writer;
        await BinlogShipper.ShipAsync(_repo.Context, Root(_source), new ShipOptions(4242, Rotate: true), _ => Task.CompletedTask, null, CancellationToken.None);

        foreach (var (name, target) in new[] { ("fast", fast), ("across", across) })
        {
            var schema = $"shop_{name}";
            var plan = await PitrRestorer.PlanAsync(_repo.Context, new PitrOptions(TargetTime: target, Restore: new RestoreOptions(TargetSchema: schema)), CancellationToken.None);
            var result = await PitrRestorer.RunAsync(_repo.Context, plan, Root(_source), null, null, CancellationToken.None);
            var tables = Convert.ToString(await _source.ScalarAsync($"SELECT GROUP_CONCAT(table_name ORDER BY table_name) FROM information_schema.tables WHERE table_schema = '{schema}'"));
            var restored = Convert.ToDateTime(await _source.ScalarAsync($"SELECT COALESCE(MAX(stamped), '1970-01-01') FROM {schema}.ticks"));
            var what = $"{name}: target {target:O}, restored up to the tick stamped {restored:O}, tables {tables}, stopped {result.StoppedBecause}";
            Assert.True(name == "across" ? tables == "copy,t,ticks" : tables == "t,ticks", what);
            Assert.True(restored <= target.UtcDateTime, what);
            // The binlog resolves a MariaDB commit to its second: what was stamped two seconds before the target is there, all of it.
            var second = target.UtcDateTime.AddTicks(-(target.UtcDateTime.Ticks % TimeSpan.TicksPerSecond));
            var missing = await _source.ScalarAsync(
                $"SELECT COUNT(*) FROM shop.ticks s LEFT JOIN {schema}.ticks r ON r.id = s.id WHERE r.id IS NULL AND (s.stamped < '{second.AddSeconds(-2):yyyy-MM-dd HH:mm:ss.ffffff}' OR s.id <= (SELECT MAX(id) FROM {schema}.ticks))");
            Assert.True(Convert.ToInt64(missing) == 0, $"{what}: {missing} tick(s) that should be there are missing");
            Assert.StartsWith("target time", result.StoppedBecause, StringComparison.Ordinal);
            Assert.True(result.LastCommitTime < target, what);
        }
    }

    /// <summary>A row every few milliseconds, stamped by the client right before its commit, in autocommit.</summary>
    private async Task TickAsync(CancellationToken ct)
    {
        await using var c = await _source.OpenRootAsync();
        while (!ct.IsCancellationRequested)
        {
            await using var command = new MySqlCommand("INSERT INTO shop.ticks (stamped) VALUES (@at)", c);
            command.Parameters.AddWithValue("@at", DateTime.UtcNow);
            await command.ExecuteNonQueryAsync(CancellationToken.None);
            await Task.Delay(15, CancellationToken.None);
        }
    }

    /// <summary>Until the writer has committed a tick stamped at or after <paramref name="until"/>.</summary>
    private async Task WaitForTicksUntilAsync(DateTime until)
    {
        while (await _source.ScalarAsync("SELECT MAX(stamped) FROM shop.ticks") is not DateTime last || last < until)
        {
            await Task.Delay(20);
        }
    }

    private async Task<bool> RunningAsync(string start) =>
        Convert.ToInt64(await _source.ScalarAsync($"SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE '{start}%'")) > 0;

    private async Task WaitForStatementAsync(string start)
    {
        while (!await RunningAsync(start))
        {
            await Task.Delay(20);
        }
    }
}
