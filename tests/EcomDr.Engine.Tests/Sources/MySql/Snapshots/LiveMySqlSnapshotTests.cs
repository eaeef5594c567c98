using EcomDr.Engine.Credentials;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Snapshots;
using EcomDr.Engine.Tests.Pipeline.Repository;
using MySqlConnector;

namespace EcomDr.Engine.Tests.Sources.MySql.Snapshots;

/// <summary>
/// Opt-in: the volume snapshot freeze on a live MySQL 8.4 (LOCK INSTANCE FOR BACKUP, FLUSH TABLES WITH
/// READ LOCK, SHOW BINARY LOG STATUS, the release) when ECOMDR_TEST_MYSQL holds a connection string to
/// one; no MySQL 8.x server runs here, so this is skipped visibly in CI (docs/testing.md). The provider
/// is a script that prints an id: the freeze and the coordinates are what is tested.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class LiveMySqlSnapshotTests
{
    [SkippableFact]
    public async Task Live_MySql84_VolumeSnapshotFreezeAndCoordinates()
    {
        var cs = Environment.GetEnvironmentVariable("ECOMDR_TEST_MYSQL");
        Skip.If(string.IsNullOrEmpty(cs), "ECOMDR_TEST_MYSQL is not set: no live MySQL 8.4 server to test against");
        var b = new MySqlConnectionStringBuilder(cs);
        var endpoint = new MySqlEndpoint(b.Server, (int)b.Port, b.UserID, new Secret(b.Password), b.SslMode.ToString());
        using var repo = new RepoFixture();
        var script = Path.Join(repo.Root, "take.sh");
        File.WriteAllText(script, "#!/bin/bash\necho live-test-snapshot\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var provider = new CommandSnapshotProvider(new CommandProviderOptions([script], ["/bin/true"]));

        var result = await VolumeSnapshot.RunAsync(repo.Context, endpoint, provider, new VolumeSnapshotOptions(TimeSpan.FromSeconds(30)), CancellationToken.None);
        Assert.Equal("LOCK INSTANCE FOR BACKUP, FLUSH TABLES WITH READ LOCK", result.Method);
        Assert.NotEmpty(result.BinlogFile);
        Assert.Contains(':', result.GtidSet);
        await using var c = new MySqlConnection(cs);
        await c.OpenAsync();
        await using var cmd = new MySqlCommand("SELECT COUNT(*) FROM performance_schema.metadata_locks WHERE OBJECT_TYPE IN ('GLOBAL', 'BACKUP LOCK') AND OWNER_THREAD_ID <> PS_CURRENT_THREAD_ID()", c);
        Assert.Equal(0L, Convert.ToInt64(await cmd.ExecuteScalarAsync())); // released
    }
}
