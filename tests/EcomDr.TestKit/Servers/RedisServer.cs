using System.Net.Sockets;
using System.Text;

namespace EcomDr.TestKit.Servers;

/// <summary>A throwaway Redis (Debian's redis-server) on a free loopback port, persistence off.</summary>
public sealed class RedisServer : ServerProcess
{
    private RedisServer()
        : base("redis")
    {
    }

    public override string LogPath => Path.Join(Directory, "redis.log");

    /// <summary>
    /// Starts a Redis; with <paramref name="rdbFile"/>, one that loads that RDB at start (as after a
    /// restart on it). DEBUG is enabled for local connections (DEBUG DIGEST-VALUE in tests).
    /// <paramref name="extraArgs"/> are more settings (for those that cannot change at run time, such as rdbchecksum).
    /// </summary>
    public static async Task<RedisServer> StartAsync(string? rdbFile = null, string[]? extraArgs = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var server = new RedisServer();
            try
            {
                server.Port = FreePort();
                if (!string.IsNullOrEmpty(rdbFile))
                {
                    File.Copy(rdbFile, Path.Join(server.Directory, "dump.rdb"), overwrite: true);
                }

                server.StartProcess("redis-server", new string[]
                {
                    "--port", server.Port.ToString(), "--bind", "127.0.0.1", "--dir", server.Directory,
                    "--logfile", server.LogPath, "--daemonize", "no", "--save", "", "--appendonly", "no",
                    "--dbfilename", "dump.rdb", "--protected-mode", "no", "--enable-debug-command", "local",
                    // Without this a replication-based snapshot waits 5 s for more replicas.
                    "--repl-diskless-sync-delay", "0",
                }.Concat(extraArgs ?? []));
                // Only this server counts: another one that took the port between probing and binding answers too.
                await server.WaitUntilReadyAsync(async () => await server.ProcessIdAsync() == server.ProcessId, TimeSpan.FromSeconds(30));
                return server;
            }
            catch (Exception) when (attempt < 3)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>The process id of the Redis answering on <see cref="ServerProcess.Port"/> (INFO server).</summary>
    private async Task<int> ProcessIdAsync()
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port).ConfigureAwait(false);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes("INFO server\r\n")).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            if (line.StartsWith("process_id:", StringComparison.Ordinal))
            {
                return int.Parse(line["process_id:".Length..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>Sends one inline command and returns the first reply line (enough for tests).</summary>
    public async Task<string> CommandAsync(string inlineCommand)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port).ConfigureAwait(false);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(inlineCommand + "\r\n")).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadLineAsync().ConfigureAwait(false) ?? string.Empty;
    }
}
