using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Prerequisites;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.TestKit.Servers;
using MySqlConnector;

namespace EcomDr.Engine.Tests.Sources.MySql.Prerequisites;

/// <summary>The checker against real MariaDB servers: one configured as EcomDr expects, one not.</summary>
public sealed class PrerequisiteCheckerTests : IAsyncLifetime
{
    private MariaDbServer _good = null!;
    private MariaDbServer _bad = null!;

    public async Task InitializeAsync()
    {
        var servers = await Task.WhenAll(
            MariaDbServer.StartAsync(),
            MariaDbServer.StartAsync(new MariaDbOptions { LogBin = false, BinlogFormat = "STATEMENT" }));
        (_good, _bad) = (servers[0], servers[1]);
        const string all = "SELECT, RELOAD, LOCK TABLES, REPLICATION CLIENT, REPLICATION SLAVE, SHOW VIEW, EVENT, TRIGGER ON *.*";
        await _good.CreateUserAsync("ecomdr", "S3cret!pw", all);
        await _bad.CreateUserAsync("ecomdr", "S3cret!pw", "SELECT, RELOAD, LOCK TABLES, REPLICATION CLIENT, SHOW VIEW, EVENT, TRIGGER ON *.*");
    }

    public async Task DisposeAsync()
    {
        await _good.DisposeAsync();
        await _bad.DisposeAsync();
    }

    private static MySqlEndpoint Endpoint(MariaDbServer server, string password = "S3cret!pw") =>
        new("127.0.0.1", server.Port, "ecomdr", new Secret(password), "None");

    [Fact]
    public async Task WellConfiguredMariaDbHasNoFailure()
    {
        var results = await PrerequisiteChecker.RunAsync(Endpoint(_good), new PrerequisiteOptions(), CancellationToken.None);
        Assert.Empty(results.Where(r => r.Status != CheckStatus.Pass).Select(r => $"{r.Check}: {r.Observed}"));
        Assert.StartsWith("MariaDB 10.", results.Single(r => r.Check == "ServerVersion").Observed);
        Assert.Contains("gtid_binlog_pos", results.Single(r => r.Check == "Gtid").Observed);
        Assert.DoesNotContain(results, r => r.Check == "Privilege.BackupAdmin");
        Assert.All(results, r => Assert.Equal($"127.0.0.1:{_good.Port}", r.Server));
    }

    [Fact]
    public async Task MisconfiguredMariaDbFailsExactlyTheBrokenChecks()
    {
        var results = await PrerequisiteChecker.RunAsync(Endpoint(_bad), new PrerequisiteOptions(), CancellationToken.None);
        Assert.Equal(new[] { "LogBin", "BinlogFormat", "Privilege.ReplicationSlave" },
            results.Where(r => r.Status == CheckStatus.Fail).Select(r => r.Check));
        Assert.Equal("OFF", results.Single(r => r.Check == "LogBin").Observed);
        Assert.Equal("STATEMENT", results.Single(r => r.Check == "BinlogFormat").Observed);
        Assert.Contains("GRANT REPLICATION SLAVE ON *.* TO ecomdr@127.0.0.1", results.Single(r => r.Check == "Privilege.ReplicationSlave").Remediation);
    }

    [Fact]
    public async Task WrongPasswordIsAnAuthenticationErrorWithoutThePassword()
    {
        var ex = await Assert.ThrowsAsync<EcomDrException>(() =>
            PrerequisiteChecker.RunAsync(Endpoint(_good, "wrong-Pa55"), new PrerequisiteOptions(), CancellationToken.None));
        Assert.Equal((ErrorIds.AuthenticationFailed, FailureKind.AuthenticationError), (ex.ErrorId, ex.Kind));
        Assert.DoesNotContain("wrong-Pa55", ex.ToString());
    }

    [Fact]
    public async Task ClosedPortIsAConnectionError()
    {
        var endpoint = new MySqlEndpoint("127.0.0.1", ServerProcess.FreePort(), "ecomdr", new Secret("x"), "None", ConnectTimeoutSeconds: 3);
        var ex = await Assert.ThrowsAsync<EcomDrException>(() => PrerequisiteChecker.RunAsync(endpoint, new PrerequisiteOptions(), CancellationToken.None));
        Assert.Equal(ErrorIds.ConnectionFailed, ex.ErrorId);
    }

    /// <summary>Opt-in: runs only when ECOMDR_TEST_MYSQL holds a connection string to a live MySQL 8.4.</summary>
    [SkippableFact]
    public async Task Live_MySql84_FromEcomdrTestMysql()
    {
        var cs = Environment.GetEnvironmentVariable("ECOMDR_TEST_MYSQL");
        Skip.If(string.IsNullOrEmpty(cs), "ECOMDR_TEST_MYSQL is not set: no live MySQL 8.4 server to test against");
        var b = new MySqlConnectionStringBuilder(cs);
        var endpoint = new MySqlEndpoint(b.Server, (int)b.Port, b.UserID, new Secret(b.Password), b.SslMode.ToString());
        var results = await PrerequisiteChecker.RunAsync(endpoint, new PrerequisiteOptions(), CancellationToken.None);
        Assert.StartsWith("MySQL 8.", results.Single(r => r.Check == "ServerVersion").Observed);
        Assert.Contains(results, r => r.Check == "Privilege.BackupAdmin");
    }
}
