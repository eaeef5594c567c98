using EcomDr.TestKit.Servers;
using EcomDr.TestKit.Shop;

namespace EcomDr.Engine.Tests.TestKit;

/// <summary>The sample shop: deterministic generation, invariants, workload and checkpoints.</summary>
public sealed class ShopTests : IAsyncLifetime
{
    private MariaDbServer _a = null!;
    private MariaDbServer _b = null!;

    public async Task InitializeAsync()
    {
        var servers = await Task.WhenAll(MariaDbServer.StartAsync(), MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 2 }));
        (_a, _b) = (servers[0], servers[1]);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Fact]
    public async Task SameSeedGivesIdenticalTablesOnTwoServersAndOtherSeedsDiffer()
    {
        var size = new ShopSize(300, 60, 2500);
        await Task.WhenAll(
            ShopGenerator.CreateAsync(_a.RootConnectionString, "ecommerce", size, seed: 7, threads: 2),
            ShopGenerator.CreateAsync(_b.RootConnectionString, "ecommerce", size, seed: 7, threads: 1),
            ShopGenerator.CreateAsync(_b.RootConnectionString, "other", size, seed: 8));

        var a = await ShopInspector.ChecksumsAsync(_a.RootConnectionString, "ecommerce");
        var b = await ShopInspector.ChecksumsAsync(_b.RootConnectionString, "ecommerce");
        var other = await ShopInspector.ChecksumsAsync(_b.RootConnectionString, "other");
        Assert.Equal(ShopSchema.Tables.Order(StringComparer.Ordinal), a.Keys);
        Assert.Equal(a, b);
        Assert.NotEqual(a["orders"], other["orders"]);
        Assert.Equal(2500L, Convert.ToInt64(await _a.ScalarAsync("SELECT COUNT(*) FROM ecommerce.orders")));
        Assert.Empty(await ShopInspector.VerifyInvariantsAsync(_a.RootConnectionString, "ecommerce"));

        // The types a backup must carry are really there.
        Assert.True(Convert.ToInt64(await _a.ScalarAsync("SELECT COUNT(*) FROM ecommerce.customers WHERE full_name REGEXP '[\\\\x{1F000}-\\\\x{1FFFF}]'")) > 0);
        Assert.True(Convert.ToInt64(await _a.ScalarAsync("SELECT COUNT(*) FROM ecommerce.customers WHERE LOCATE(X'00', avatar) > 0")) > 0);
        Assert.True(Convert.ToInt64(await _a.ScalarAsync("SELECT COUNT(*) FROM ecommerce.customers WHERE avatar IS NULL")) > 0);
        Assert.True(Convert.ToInt64(await _a.ScalarAsync("SELECT COUNT(*) FROM ecommerce.customers WHERE avatar = ''")) > 0);
        Assert.Equal("example.com", await _a.ScalarAsync("SELECT email_domain FROM ecommerce.customers WHERE email LIKE '%@example.com' LIMIT 1"));
        Assert.Equal(ShopSchema.AlembicRevision, await _a.ScalarAsync("SELECT version_num FROM ecommerce.alembic_version"));
        Assert.Equal(4L, Convert.ToInt64(await _a.ScalarAsync(
            "SELECT (SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA='ecommerce') + (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA='ecommerce')" +
            " + (SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA='ecommerce') + (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA='ecommerce')")));
    }

    [Fact]
    public async Task WorkloadKeepsInvariantsAndCheckpointsPinTheBinlogPosition()
    {
        await ShopGenerator.CreateAsync(_a.RootConnectionString, "shop", new ShopSize(200, 40, 1000), seed: 3);
        ShopCheckpoint first, second;
        var workload = ShopWorkload.Start(_a.RootConnectionString, "shop", workers: 4, transactionsPerSecond: 0);
        try
        {
            await Task.Delay(1500);
            first = await workload.CheckpointAsync();
            await Task.Delay(1500);
        }
        finally
        {
            await workload.StopAsync();
        }

        second = await workload.CheckpointAsync();
        Assert.Empty(workload.Errors);
        Assert.True(workload.OrdersPlaced > 0 && workload.PaymentsCaptured > 0 && workload.Refunds > 0 && workload.Restocks > 0,
            $"orders {workload.OrdersPlaced}, captures {workload.PaymentsCaptured}, refunds {workload.Refunds}, restocks {workload.Restocks}");
        Assert.Empty(await ShopInspector.VerifyInvariantsAsync(_a.RootConnectionString, "shop"));

        // With writers stopped, the checkpoint is exactly the server's current state.
        Assert.Equal(Convert.ToString(await _a.ScalarAsync("SELECT @@gtid_binlog_pos")), second.GtidPosition);
        Assert.Equal(await ShopInspector.ChecksumsAsync(_a.RootConnectionString, "shop"), second.TableChecksums);
        Assert.Equal(Convert.ToInt64(await _a.ScalarAsync("SELECT MAX(id) FROM shop.orders")), second.LastOrderId);
        Assert.True(second.LastOrderId > first.LastOrderId);
        Assert.True(second.BinlogPosition > first.BinlogPosition || second.BinlogFile != first.BinlogFile);
        Assert.NotEqual(first.TableChecksums["orders"], second.TableChecksums["orders"]);
        Assert.True(first.RowCounts["orders"] >= 1000 && second.RowCounts["order_items"] > first.RowCounts["order_items"]);
    }
}
