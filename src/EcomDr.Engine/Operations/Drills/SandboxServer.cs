using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Operations.Drills;

/// <summary>
/// A throwaway MariaDB server for a drill, from the binaries on this machine (mariadb-install-db and
/// mariadbd): its own folder, a free loopback port, binlog and GTIDs on as on a restored primary,
/// root without a password on loopback only. Stopped and removed when disposed, unless kept.
/// </summary>
public sealed class SandboxServer : IAsyncDisposable
{
    private readonly Process _process;

    private SandboxServer(string folder, int port, Process process, bool keep)
    {
        Folder = folder;
        Port = port;
        _process = process;
        Keep = keep;
    }

    public string Folder { get; }

    public int Port { get; }

    public bool Keep { get; }

    public MySqlEndpoint Endpoint => new("127.0.0.1", Port, "root", Secret.Empty, "None");

    public string Describe() => $"sandbox MariaDB 127.0.0.1:{Port} ({Folder}{(Keep ? ", kept" : "")})";

    public static Task<SandboxServer> StartAsync(bool keep, CancellationToken ct) =>
        StartAsync(async (data, folder, token) =>
        {
            var args = new List<string> { "--no-defaults", $"--datadir={data}", "--auth-root-authentication-method=normal", "--skip-test-db" };
            if (Environment.UserName == "root")
            {
                args.Add("--user=root");
            }

            await RunAsync(Find("mariadb-install-db"), args, Path.Combine(folder, "install.log"), token).ConfigureAwait(false);
            return "binlog";
        }, keep, ct);

    /// <summary>
    /// A sandbox on a data directory <paramref name="fill"/> puts in place (a restored volume snapshot):
    /// InnoDB's crash recovery runs on it, and the server goes on with the copy's own binlog, whose base
    /// name <paramref name="fill"/> returns, so its GTID state is the snapshot's.
    /// </summary>
    public static async Task<SandboxServer> StartAsync(Func<string, string, CancellationToken, Task<string>> fill, bool keep, CancellationToken ct)
    {
        var server = Find("mariadbd");
        var folder = Path.Combine(Path.GetTempPath(), "ecomdr-sandbox-" + Guid.NewGuid().ToString("N")[..12]);
        var data = Path.Combine(folder, "data");
        Directory.CreateDirectory(folder);
        var asRoot = Environment.UserName == "root";
        try
        {
            var binlog = await fill(data, folder, ct).ConfigureAwait(false);
            var port = FreePort();
            // A tmpdir of its own: a starting mariadbd deletes every #sql* file in its tmpdir, which in a
            // shared /tmp are the temporary tables of the other servers running there.
            var tmp = Directory.CreateDirectory(Path.Combine(folder, "tmp")).FullName;
            var start = new ProcessStartInfo(server) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[]
            {
                "--no-defaults", $"--datadir={data}", $"--socket={Path.Combine(folder, "mysqld.sock")}", $"--pid-file={Path.Combine(folder, "mysqld.pid")}", $"--tmpdir={tmp}",
                $"--port={port}", "--bind-address=127.0.0.1", $"--log-error={Path.Combine(folder, "error.log")}", "--skip-name-resolve",
                "--server-id=4294000001", "--gtid-domain-id=4000", $"--log-bin={Path.Combine(data, binlog)}", "--binlog-format=ROW",
                "--gtid-strict-mode=ON", "--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0", "--max-allowed-packet=64M", "--default-time-zone=+00:00",
            })
            {
                start.ArgumentList.Add(a);
            }

            if (asRoot)
            {
                start.ArgumentList.Add("--user=root");
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("mariadbd did not start");
            var sandbox = new SandboxServer(folder, port, process, keep);
            await sandbox.WaitReadyAsync(ct).ConfigureAwait(false);
            return sandbox;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var log = Path.Combine(folder, "error.log");
            var tail = File.Exists(log) ? string.Join(" | ", File.ReadLines(log).TakeLast(5)) : "";
            if (!keep)
            {
                TryDelete(folder);
            }

            if (ex is EcomDrException)
            {
                throw;
            }

            throw new EcomDrException(ErrorIds.SandboxFailed, FailureKind.ResourceUnavailable, $"The sandbox server did not start: {ex.Message} {tail}".Trim(), folder, ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        _process.Dispose();
        if (!Keep)
        {
            TryDelete(Folder);
        }
    }

    private async Task WaitReadyAsync(CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"mariadbd exited with code {_process.ExitCode}.");
            }

            try
            {
                await using var c = await Sources.MySql.Wire.WireConnection.OpenAsync(Endpoint, ct).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is SocketException or IOException or EcomDrException)
            {
                await Task.Delay(100, ct).ConfigureAwait(false);
            }
        }

        throw new TimeoutException("mariadbd did not accept connections within 60 s.");
    }

    private static string Find(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Concat(new[] { "/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/mysql/bin" }))
        {
            var path = Path.Combine(dir, tool);
            if (dir.Length > 0 && File.Exists(path))
            {
                return path;
            }
        }

        throw new EcomDrException(ErrorIds.SandboxFailed, FailureKind.ObjectNotFound,
            $"-Sandbox needs MariaDB server binaries ({tool}) on this machine: apt-get install mariadb-server, or give -TargetServer.", tool);
    }

    private static async Task RunAsync(string tool, IEnumerable<string> args, string log, CancellationToken ct)
    {
        var start = new ProcessStartInfo(tool) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var errors = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct).ConfigureAwait(false);
        await File.WriteAllTextAsync(log, await output.ConfigureAwait(false) + await errors.ConfigureAwait(false), ct).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(tool)} failed with code {process.ExitCode} (see {log}).");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // a file still held: the temp folder is cleaned later
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
