using System.Diagnostics;
using EcomDr.TestKit.Servers;
using EcomDr.TestKit.Shop;

namespace EcomDr.Engine.Tests.TestKit;

/// <summary>The test harness itself: servers start, run side by side and stop by PID.</summary>
public class ServerHarnessTests
{
    [Fact]
    public async Task TwoMariaDbInstancesRunSideBySideAndStopByPid()
    {
        await using var source = await MariaDbServer.StartAsync();
        await using var target = await MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 2, GtidDomainId = 2 });
        Assert.NotEqual(source.Port, target.Port);
        Assert.Equal(1L, Convert.ToInt64(await source.ScalarAsync("SELECT @@server_id")));
        Assert.Equal(2L, Convert.ToInt64(await target.ScalarAsync("SELECT @@server_id")));
        Assert.Equal("ROW", await source.ScalarAsync("SELECT @@binlog_format"));
        Assert.Equal(1L, Convert.ToInt64(await source.ScalarAsync("SELECT @@log_bin")));

        var pid = target.ProcessId;
        await target.StopAsync();
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid));
        Assert.True(Directory.Exists(source.DataDirectory));
    }

    [Fact]
    public async Task RedisAnswersAndSnapshotsWithoutDelay()
    {
        await using var redis = await RedisServer.StartAsync();
        Assert.Equal("+OK", await redis.CommandAsync("SET cart:1 \"2 items\""));
        Assert.Equal("+PONG", await redis.CommandAsync("PING"));
        Assert.Equal("*2", await redis.CommandAsync("CONFIG GET repl-diskless-sync-delay"));
    }

    [Fact]
    public async Task S3rverServesConfiguredBuckets()
    {
        await using var s3 = await S3rverServer.StartAsync("ecomdr-primary");
        using var http = new HttpClient();
        var listing = await http.GetStringAsync(s3.Endpoint + "/");
        Assert.Contains("<Name>ecomdr-primary</Name>", listing);
        var pid = s3.ProcessId;
        await s3.StopAsync();
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid));
    }

    [Fact]
    public async Task FailedStartReportsTheServerLog()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() =>
            MariaDbServer.StartAsync(new MariaDbOptions { ExtraArguments = new[] { "--no-such-option-ecomdr" } }));
        Assert.Contains("no-such-option-ecomdr", ex.Message);
    }
}
