using System.Diagnostics;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Pitr;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Snapshots;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.TestKit.Servers;
using EcomDr.TestKit.Shop;
using Xunit.Abstractions;

namespace EcomDr.Engine.Tests.Sources.MySql.Snapshots;

/// <summary>
/// Restore-MySqlPitr -FromSnapshot against real MariaDB servers: a directory snapshot taken while the
/// shop's workload runs, the workload going on, the binlog shipped; a MariaDB started on the restored
/// copy and replayed to a target time holds the shop's checksums at that time, as the logical restore
/// of the same shop does. Both times are written to the test output. A server whose GTID state is not
/// the snapshot's is refused before anything is replayed.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SnapshotPitrTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ecomdr-snappitr-").FullName;
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
        Directory.Delete(_dir, recursive: true);
    }

    private static MySqlEndpoint Root(MariaDbServer server) => new("127.0.0.1", server.Port, "root", Secret.Empty, "None");

    [Fact]
    public async Task AServerOnTheSnapshotReplayedToATargetTimeHoldsTheShopAtThatTime()
    {
        await ShopGenerator.CreateAsync(_source.RootConnectionString, "ecommerce", new ShopSize(400, 40, 3000), seed: 31);
        var full = await MySqlDumper.RunAsync(_repo.Context, Root(_source), new DumpOptions(["ecommerce"], ThreadCount: 2, ChunkRows: 2000), null, CancellationToken.None);
        var provider = new DirectorySnapshotProvider(new DirectoryProviderOptions(Path.Join(_dir, "snapshots")));
        ShopCheckpoint checkpoint;
        VolumeSnapshotResult snapshot;
        await using (var workload = ShopWorkload.Start(_source.RootConnectionString, "ecommerce", workers: 3, transactionsPerSecond: 150, seed: 9))
        {
            await WaitForOrdersAsync(workload, 50);
            snapshot = await VolumeSnapshot.RunAsync(_repo.Context, Root(_source), provider, new VolumeSnapshotOptions(TimeSpan.FromSeconds(60)), CancellationToken.None);
            var after = workload.OrdersPlaced;
            await WaitForOrdersAsync(workload, after + 50);
            await _source.ExecuteAsync("FLUSH BINARY LOGS"); // replay crosses a rotation
            await WaitForOrdersAsync(workload, after + 100);
            await workload.StopAsync();
            Assert.Empty(workload.Errors);
            checkpoint = await workload.CheckpointAsync();
        }

        // The binlog stamps transactions to the second: the target is the whole second after the
        // checkpoint's, and more shop traffic starts a second later, so the target must leave it out.
        var second = checkpoint.UtcTime.AddTicks(-(checkpoint.UtcTime.Ticks % TimeSpan.TicksPerSecond)).AddSeconds(1);
        while (DateTime.UtcNow < second.AddSeconds(1))
        {
            await Task.Delay(20);
        }

        await using (var later = ShopWorkload.Start(_source.RootConnectionString, "ecommerce", workers: 2, transactionsPerSecond: 150, seed: 10))
        {
            await WaitForOrdersAsync(later, 30);
            await later.StopAsync();
        }

        await BinlogShipper.ShipAsync(_repo.Context, Root(_source), new ShipOptions(4242), _ => Task.CompletedTask, null, CancellationToken.None);
        var target = new PitrOptions(TargetTime: new DateTimeOffset(second, TimeSpan.Zero));

        // From the snapshot: copy, start (crash recovery), check its GTID state, replay.
        var clock = Stopwatch.StartNew();
        await using var restored = await MariaDbServer.StartOnAsync(d => provider.RestoreAsync(snapshot.Backup.Id, _source.DataDirectory, d, CancellationToken.None), new MariaDbOptions());
        var started = clock.Elapsed;
        var plan = await SnapshotPitr.PlanAsync(_repo.Context, snapshot.Backup.Id, target, CancellationToken.None);
        var result = await SnapshotPitr.RunAsync(_repo.Context, plan, Root(restored), null, CancellationToken.None);
        var fromSnapshot = clock.Elapsed;

        Assert.Equal(checkpoint.TableChecksums, await ShopInspector.ChecksumsAsync(restored.RootConnectionString, "ecommerce"));
        Assert.Empty(await ShopInspector.VerifyInvariantsAsync(restored.RootConnectionString, "ecommerce"));
        Assert.Equal(checkpoint.GtidPosition, Convert.ToString(await restored.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos")));
        Assert.Equal(checkpoint.GtidPosition, result.LastGtid);
        Assert.True(result.Transactions > 100, $"{result.Transactions} transactions replayed");
        Assert.Equal(snapshot.Backup.Id, result.BackupId);

        // The logical way, from the full backup taken before the snapshot, into a fresh server.
        clock.Restart();
        await using var logicalTarget = await MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 7, GtidDomainId = 7 });
        var logicalPlan = await PitrRestorer.PlanAsync(_repo.Context, target with { BackupId = full.Backup.Id }, CancellationToken.None);
        await PitrRestorer.RunAsync(_repo.Context, logicalPlan, Root(logicalTarget), null, null, CancellationToken.None);
        var logical = clock.Elapsed;
        Assert.Equal(checkpoint.TableChecksums, await ShopInspector.ChecksumsAsync(logicalTarget.RootConnectionString, "ecommerce"));

        output.WriteLine($"from the volume snapshot: {fromSnapshot.TotalSeconds:0.00} s (copy and server start {started.TotalSeconds:0.00} s, replay of {result.Transactions} transactions {result.ReplayPhase.TotalSeconds:0.00} s)");
        output.WriteLine($"logical, from the full backup: {logical.TotalSeconds:0.00} s (full restore {logicalPlan.Restore.Describe()})");

        // Written to since: its GTID state is no longer the snapshot's.
        var again = await Assert.ThrowsAsync<EcomDrException>(() => SnapshotPitr.RunAsync(_repo.Context, plan, Root(restored), null, CancellationToken.None));
        Assert.Equal(ErrorIds.SnapshotStateMismatch, again.ErrorId);
        Assert.Contains(checkpoint.GtidPosition, again.Message, StringComparison.Ordinal);
        Assert.Equal(checkpoint.TableChecksums, await ShopInspector.ChecksumsAsync(restored.RootConnectionString, "ecommerce"));

        // A stop point before the snapshot cannot start from it.
        var early = await Assert.ThrowsAsync<EcomDrException>(() =>
            SnapshotPitr.PlanAsync(_repo.Context, snapshot.Backup.Id, new PitrOptions(TargetTime: snapshot.Backup.Created.AddMinutes(-5)), CancellationToken.None));
        Assert.Equal(ErrorIds.TargetNotReachable, early.ErrorId);
    }

    private static async Task WaitForOrdersAsync(ShopWorkload workload, long orders)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (workload.OrdersPlaced < orders)
        {
            Assert.True(DateTime.UtcNow < until, $"the workload placed only {workload.OrdersPlaced} orders");
            Assert.Empty(workload.Errors);
            await Task.Delay(20);
        }
    }
}
