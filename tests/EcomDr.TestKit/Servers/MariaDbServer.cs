using MySqlConnector;

namespace EcomDr.TestKit.Servers;

/// <summary>
/// A throwaway MariaDB server (Debian's mariadbd) on a free loopback port. The system tables are
/// created once per process with mariadb-install-db and copied for each instance, so a start takes
/// well under a second. Root has no password and is reachable over TCP from 127.0.0.1 only.
/// </summary>
public sealed class MariaDbServer : ServerProcess
{
    private static readonly SemaphoreSlim TemplateLock = new(1, 1);
    private static string? _template;

    private MariaDbServer(MariaDbOptions options)
        : base("mariadb")
    {
        Options = options;
    }

    public MariaDbOptions Options { get; }

    private string? _dataDirectory;

    public string DataDirectory => _dataDirectory ?? Path.Join(Directory, "data");

    public string SocketPath => Path.Join(Directory, "mysqld.sock");

    public override string LogPath => Path.Join(Directory, "error.log");

    public string RootConnectionString => ConnectionString("root", "");

    public static Task<MariaDbServer> StartAsync() => StartAsync(new MariaDbOptions());

    public static async Task<MariaDbServer> StartAsync(MariaDbOptions options)
    {
        var template = await TemplateAsync().ConfigureAwait(false);
        for (var attempt = 1; ; attempt++)
        {
            var server = new MariaDbServer(options);
            try
            {
                CopyDirectory(template, server.DataDirectory);
                await server.LaunchAsync().ConfigureAwait(false);
                return server;
            }
            catch (Exception) when (attempt < 3)
            {
                // most likely the free port was taken between probing and binding: try another
                await server.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Starts a MariaDB on a data directory that <paramref name="prepare"/> puts at the path it is given
    /// (a restored snapshot): InnoDB's crash recovery runs on it as on a restored volume.
    /// </summary>
    public static async Task<MariaDbServer> StartOnAsync(Func<string, Task> prepare, MariaDbOptions options)
    {
        var server = new MariaDbServer(options);
        try
        {
            await prepare(server.DataDirectory).ConfigureAwait(false);
            await server.LaunchAsync().ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts a MariaDB on a data directory that exists already (a restored snapshot, from PowerShell). It is not deleted with the server.</summary>
    public static async Task<MariaDbServer> StartOnDataDirectoryAsync(string dataDirectory, MariaDbOptions options)
    {
        var server = new MariaDbServer(options) { _dataDirectory = Path.GetFullPath(dataDirectory) };
        try
        {
            await server.LaunchAsync().ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public string ConnectionString(string user, string password, string? database = null)
    {
        var builder = new MySqlConnectionStringBuilder
        {
            Server = "127.0.0.1",
            Port = (uint)Port,
            UserID = user,
            Password = password,
            Database = database ?? "",
            SslMode = MySqlSslMode.None,
            AllowUserVariables = true,
            Pooling = false,
            DefaultCommandTimeout = 600,
        };
        return builder.ConnectionString;
    }

    public async Task<MySqlConnection> OpenRootAsync(string? database = null)
    {
        var connection = new MySqlConnection(ConnectionString("root", "", database));
        await connection.OpenAsync().ConfigureAwait(false);
        return connection;
    }

    /// <summary>Runs statements as root (a script of several statements is allowed).</summary>
    public async Task ExecuteAsync(string sql, string? database = null)
    {
        await using var connection = await OpenRootAsync(database).ConfigureAwait(false);
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    public async Task<object?> ScalarAsync(string sql, string? database = null)
    {
        await using var connection = await OpenRootAsync(database).ConfigureAwait(false);
        await using var command = new MySqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync().ConfigureAwait(false);
        return value is DBNull ? null : value;
    }

    /// <summary>Forgets the binlog and the GTID state (RESET MASTER) and drops every user schema: a server as good as new, in milliseconds.</summary>
    public async Task ResetAsync()
    {
        await using var connection = await OpenRootAsync().ConfigureAwait(false);
        var schemas = new List<string>();
        await using (var list = new MySqlCommand("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')", connection))
        await using (var reader = await list.ExecuteReaderAsync().ConfigureAwait(false))
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                schemas.Add(reader.GetString(0));
            }
        }

        // A prepared XA transaction (the stock tools leave one when they stop between its prepare and commit) holds its locks.
        var prepared = new List<string>();
        await using (var recover = new MySqlCommand("XA RECOVER", connection))
        await using (var reader = await recover.ExecuteReaderAsync().ConfigureAwait(false))
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                var data = (byte[])reader.GetValue(3);
                var gtrid = reader.GetInt32(1);
                prepared.Add($"XA ROLLBACK X'{Convert.ToHexString(data[..gtrid])}',X'{Convert.ToHexString(data[gtrid..])}',{reader.GetInt32(0)};");
            }
        }

        var sql = string.Concat(prepared) + string.Concat(schemas.Select(s => $"DROP DATABASE `{s.Replace("`", "``", StringComparison.Ordinal)}`;")) + "RESET MASTER;";
        await using var command = new MySqlCommand("SET SESSION sql_log_bin = 0;" + sql, connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Waits until the current binlog file holds the BINLOG_CHECKPOINT event that names it. After a
    /// rotation MariaDB writes that event from a background thread once the previous file's
    /// transactions are durable, a moment (or, under load, much more) later: a test that expects
    /// nothing more to ship waits for it, a state, not for a time.
    /// </summary>
    public async Task WaitForQuietBinlogAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using var connection = await OpenRootAsync().ConfigureAwait(false);
            string file;
            await using (var status = new MySqlCommand("SHOW MASTER STATUS", connection))
            await using (var reader = await status.ExecuteReaderAsync().ConfigureAwait(false))
            {
                await reader.ReadAsync().ConfigureAwait(false);
                file = reader.GetString(0);
            }

            await using (var events = new MySqlCommand($"SHOW BINLOG EVENTS IN '{file}'", connection))
            await using (var reader = await events.ExecuteReaderAsync().ConfigureAwait(false))
            {
                while (await reader.ReadAsync().ConfigureAwait(false))
                {
                    if (reader.GetString(2) == "Binlog_checkpoint" && reader.GetString(5).Contains(file, StringComparison.Ordinal))
                    {
                        return;
                    }
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{file} got no BINLOG_CHECKPOINT event naming itself within a minute.");
            }

            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    /// <summary>Creates a user reachable from 127.0.0.1 with exactly the privileges given (e.g. "SELECT, RELOAD ON *.*").</summary>
    public Task CreateUserAsync(string user, string password, params string[] grants)
    {
        var sql = $"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{password.Replace("'", "''")}';" +
                  string.Concat(grants.Select(g => $"GRANT {g} TO '{user}'@'127.0.0.1';"));
        return ExecuteAsync(sql);
    }

    /// <summary>
    /// Stops the server cleanly (it writes its binlog's STOP event) and starts it again on the same
    /// port and data, after <paramref name="down"/>: what a shipper sees as a server restart.
    /// </summary>
    public async Task RestartAsync(TimeSpan? down = null)
    {
        await StopAsync().ConfigureAwait(false);
        if (down is { } wait)
        {
            await Task.Delay(wait).ConfigureAwait(false);
        }

        await LaunchAsync(keepPort: true).ConfigureAwait(false);
    }

    private async Task LaunchAsync(bool keepPort = false)
    {
        if (!keepPort)
        {
            Port = FreePort();
        }

        var args = new List<string>
        {
            "--no-defaults",
            $"--datadir={DataDirectory}",
            // Its own tmpdir: a starting mariadbd deletes every #sql* file in its tmpdir, which in a shared
            // /tmp are the temporary tables of the other servers the tests run (and crashed them).
            $"--tmpdir={System.IO.Directory.CreateDirectory(Path.Join(Directory, "tmp")).FullName}",
            $"--socket={SocketPath}",
            $"--pid-file={Path.Join(Directory, "mysqld.pid")}",
            $"--port={Port}",
            "--bind-address=127.0.0.1",
            $"--log-error={LogPath}",
            "--user=root",
            "--skip-name-resolve",
            $"--server-id={Options.ServerId}",
            $"--gtid-domain-id={Options.GtidDomainId}",
            $"--default-time-zone={Options.TimeZone}",
            "--innodb-log-file-size=8M",
            "--innodb-buffer-pool-size=128M",
            // Throwaway data: durability on every commit only slows the tests.
            "--innodb-flush-log-at-trx-commit=2",
            "--sync-binlog=0",
            "--event-scheduler=ON",
            // Within the soft limit of a CI container; the default asks for more and warns on stderr.
            "--open-files-limit=4096",
            "--max-connections=200",
        };
        if (Options.LogBin)
        {
            args.Add($"--log-bin={Path.Join(DataDirectory, "binlog")}");
            args.Add(Options.GtidStrictMode ? "--gtid-strict-mode=ON" : "--gtid-strict-mode=OFF");
        }

        args.Add($"--binlog-format={Options.BinlogFormat}");
        if (Options.MaxAllowedPacket is { } packet)
        {
            args.Add($"--max-allowed-packet={packet}");
        }

        args.AddRange(Options.ExtraArguments);
        StartProcess("mariadbd", args);
        await WaitUntilReadyAsync(async () =>
        {
            await using var connection = new MySqlConnection(RootConnectionString + ";Connection Timeout=2");
            await connection.OpenAsync().ConfigureAwait(false);
            // Only this server counts: another one that took the port between probing and binding answers
            // too (this one then exits on its bind error, and the start is tried again on another port).
            await using var datadir = new MySqlCommand("SELECT @@datadir", connection);
            return Path.TrimEndingDirectorySeparator(Convert.ToString(await datadir.ExecuteScalarAsync().ConfigureAwait(false)) ?? "")
                == Path.TrimEndingDirectorySeparator(Path.GetFullPath(DataDirectory));
        }, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
    }

    private static async Task<string> TemplateAsync()
    {
        await TemplateLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_template is not null && System.IO.Directory.Exists(_template))
            {
                return _template;
            }

            var dir = Path.Join(Path.GetTempPath(), $"ecomdr-mariadb-template-{Environment.ProcessId}-{Guid.NewGuid():N}"[..50]);
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try { System.IO.Directory.Delete(dir, true); } catch (IOException) { }
            };
            await RunToolAsync("mariadb-install-db", new[]
            {
                "--no-defaults", $"--datadir={dir}", "--user=root", "--auth-root-authentication-method=normal",
                "--skip-test-db", "--innodb-log-file-size=8M",
            }, TimeSpan.FromMinutes(2)).ConfigureAwait(false);
            _template = dir;
            return dir;
        }
        finally
        {
            TemplateLock.Release();
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        System.IO.Directory.CreateDirectory(to);
        foreach (var dir in System.IO.Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            System.IO.Directory.CreateDirectory(Path.Join(to, Path.GetRelativePath(from, dir)));
        }

        foreach (var file in System.IO.Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Join(to, Path.GetRelativePath(from, file)));
        }
    }
}
