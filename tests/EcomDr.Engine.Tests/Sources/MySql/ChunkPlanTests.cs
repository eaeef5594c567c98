using EcomDr.Engine.Credentials;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Load;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>
/// How big tables are cut into chunks on a real MariaDB: a large table alone gets at least four key
/// ranges per worker (each of at least 25,000 rows), whatever ChunkRows says, so no worker finishes
/// the last range alone; small tables stay whole; and the ranges together restore exactly the table.
/// </summary>
public sealed class ChunkPlanTests : IAsyncLifetime
{
    private MariaDbServer _source = null!;
    private MariaDbServer _target = null!;
    private readonly RepoFixture _repo = new(frameSize: 1 << 16);

    public async Task InitializeAsync()
    {
        var servers = await Task.WhenAll(MariaDbServer.StartAsync(), MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 2, GtidDomainId = 2 }));
        (_source, _target) = (servers[0], servers[1]);
    }

    public async Task DisposeAsync()
    {
        _repo.Dispose();
        await _source.DisposeAsync();
        await _target.DisposeAsync();
    }

    private static MySqlEndpoint Root(MariaDbServer server) => new("127.0.0.1", server.Port, "root", Secret.Empty, "None");

    [Fact]
    public async Task ALargeTableAloneKeepsEveryWorkerBusyAndItsRangesRestoreItExactly()
    {
        await _source.ExecuteAsync("""
            CREATE DATABASE chunks;
            CREATE TABLE chunks.big (id INT PRIMARY KEY, k INT NOT NULL, v VARCHAR(40), KEY (k)) ENGINE=InnoDB;
            INSERT INTO chunks.big SELECT seq * 3, seq % 977, md5(seq) FROM chunks.seq_1_to_300000;
            CREATE TABLE chunks.medium (id BIGINT PRIMARY KEY, v INT) ENGINE=InnoDB;
            INSERT INTO chunks.medium SELECT CAST(seq AS SIGNED) - 30000, seq FROM chunks.seq_1_to_60000; -- negative keys too
            CREATE TABLE chunks.small (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
            INSERT INTO chunks.small SELECT seq, seq FROM chunks.seq_1_to_10000;
            ANALYZE TABLE chunks.big, chunks.medium, chunks.small;
            """);

        var dump = await MySqlDumper.RunAsync(_repo.Context, Root(_source), new DumpOptions(["chunks"], ThreadCount: 2, ChunkRows: 500_000), null, CancellationToken.None);
        var stats = dump.Backup.Manifest!.Stats["tables"]!;
        // 2 workers: 8 ranges for the big table; the medium one is cut by rows / 25,000 (about 2); the small one stays whole.
        Assert.Equal(8, (int)stats["chunks.big"]!["chunks"]!);
        Assert.InRange((int)stats["chunks.medium"]!["chunks"]!, 2, 3);
        Assert.Equal(1, (int)stats["chunks.small"]!["chunks"]!);
        Assert.Equal(300_000L, (long)stats["chunks.big"]!["rows"]!);

        var options = new RestoreOptions();
        await MySqlRestorer.RunAsync(_repo.Context, await RestorePlan.CreateAsync(_repo.Context, dump.Backup, options, CancellationToken.None), Root(_target), options, null,
            CancellationToken.None);
        foreach (var table in new[] { "big", "medium", "small" })
        {
            var checksum = $"SELECT CONCAT(COUNT(*), '/', SUM(CRC32(CONCAT_WS('|', id, v)))) FROM chunks.{table}";
            var expected = await _source.ScalarAsync(checksum);
            Assert.Equal(expected, await _target.ScalarAsync(checksum));
        }
    }
}
