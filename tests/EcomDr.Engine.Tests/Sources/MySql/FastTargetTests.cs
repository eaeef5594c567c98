using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Load;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>
/// -FastTarget on a real MariaDB: durability is relaxed while the restore runs (seen from the restore's
/// own progress, a state), set back when it ends and when it is cancelled, and refused on a server that
/// holds another schema before anything changes.
/// </summary>
public sealed class FastTargetTests : IAsyncLifetime
{
    private MariaDbServer _source = null!;
    private MariaDbServer _target = null!;
    private readonly RepoFixture _repo = new(frameSize: 1 << 16);

    public async Task InitializeAsync()
    {
        var servers = await Task.WhenAll(MariaDbServer.StartAsync(), MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 2, GtidDomainId = 2 }));
        (_source, _target) = (servers[0], servers[1]);
        await _source.ExecuteAsync("""
            CREATE DATABASE fast;
            CREATE TABLE fast.t (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB;
            INSERT INTO fast.t SELECT seq, md5(seq) FROM fast.seq_1_to_100000;
            """);
    }

    public async Task DisposeAsync()
    {
        _repo.Dispose();
        await _source.DisposeAsync();
        await _target.DisposeAsync();
    }

    private static MySqlEndpoint Root(MariaDbServer server) => new("127.0.0.1", server.Port, "root", Secret.Empty, "None");

    private Task<object?> DurabilityAsync() => _target.ScalarAsync("SELECT CONCAT(@@GLOBAL.innodb_flush_log_at_trx_commit, '/', @@GLOBAL.sync_binlog)");

    [Fact]
    public async Task RelaxesDurabilityOnlyWhileItRestoresAndOnlyOnAFreshServer()
    {
        var dump = await MySqlDumper.RunAsync(_repo.Context, Root(_source), new DumpOptions(["fast"], ThreadCount: 2, ChunkRows: 10_000), null, CancellationToken.None);
        // The test kit runs its servers relaxed; this one is made durable, as a production server is.
        await _target.ExecuteAsync("SET GLOBAL innodb_flush_log_at_trx_commit = 1, GLOBAL sync_binlog = 1");
        var before = await DurabilityAsync();
        Assert.Equal("1/1", before);

        var seen = new List<object?>();
        var options = new RestoreOptions(FastTarget: true);
        var progress = new Inline(p =>
        {
            if (p.ChunksDone == 1)
            {
                seen.Add(DurabilityAsync().GetAwaiter().GetResult());
            }
        });
        await MySqlRestorer.RunAsync(_repo.Context, await RestorePlan.CreateAsync(_repo.Context, dump.Backup, options, CancellationToken.None), Root(_target), options, progress,
            CancellationToken.None);
        Assert.Contains("2/0", seen);
        Assert.Equal(before, await DurabilityAsync());
        Assert.Equal(100_000L, Convert.ToInt64(await _target.ScalarAsync("SELECT COUNT(*) FROM fast.t")));

        // Cancelled mid-restore: set back as well.
        using var cancel = new CancellationTokenSource();
        var again = new RestoreOptions(TargetSchema: "fast_again", FastTarget: true);
        await _target.ExecuteAsync("DROP DATABASE fast");
        var cancelling = new Inline(p =>
        {
            if (p.ChunksDone == 1)
            {
                cancel.Cancel();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await MySqlRestorer.RunAsync(_repo.Context,
            await RestorePlan.CreateAsync(_repo.Context, dump.Backup, again, CancellationToken.None), Root(_target), again, cancelling, cancel.Token));
        Assert.Equal(before, await DurabilityAsync());

        // A server that holds another schema is refused before anything changes.
        await _target.ExecuteAsync("CREATE DATABASE live_shop");
        var refused = await Assert.ThrowsAsync<EcomDrException>(async () => await MySqlRestorer.RunAsync(_repo.Context,
            await RestorePlan.CreateAsync(_repo.Context, dump.Backup, options, CancellationToken.None), Root(_target), options, null, CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidArgument, refused.ErrorId);
        Assert.Contains("`live_shop`", refused.Message, StringComparison.Ordinal);
        Assert.Equal(before, await DurabilityAsync());
    }

    /// <summary>Reports on the reporting thread (Progress&lt;T&gt; would post to the thread pool, after the fact).</summary>
    private sealed class Inline(Action<RestoreProgress> report) : IProgress<RestoreProgress>
    {
        public void Report(RestoreProgress value) => report(value);
    }
}
