using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EcomDr.TestKit.Servers;

/// <summary>
/// A server child process in its own temp folder: started on a free loopback port, stopped by PID,
/// its log available for failure messages. Subclasses say how to start and probe their server.
/// </summary>
public abstract class ServerProcess : IAsyncDisposable, IDisposable
{
    private static readonly List<ServerProcess> Running = new();
    private Process? _process;

    static ServerProcess()
    {
        // A test host that exits without disposing still takes its servers with it.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            lock (Running)
            {
                foreach (var server in Running.ToArray())
                {
                    server.Kill();
                }
            }
        };
    }

    protected ServerProcess(string kind)
    {
        Kind = kind;
        Directory = Path.Join(Path.GetTempPath(), $"ecomdr-{kind}-{Guid.NewGuid():N}"[..30]);
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Kind { get; }

    /// <summary>The server's temp folder: data, socket, pid and log live here.</summary>
    public string Directory { get; }

    public int Port { get; protected set; }

    public int ProcessId => _process?.Id ?? 0;

    public abstract string LogPath { get; }

    /// <summary>The last lines of the server's log, for failure messages.</summary>
    public string LogTail(int lines = 40)
    {
        try
        {
            if (!File.Exists(LogPath))
            {
                return $"({Kind}: no log at {LogPath})";
            }

            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return $"--- {Kind} log ({LogPath}) ---\n" + string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException ex)
        {
            return $"({Kind}: log unreadable: {ex.Message})";
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Runs a tool to completion; a non-zero exit is an exception carrying its output.</summary>
    protected static async Task RunToolAsync(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} exited {process.ExitCode}:\n{await stdout}\n{await stderr}");
        }
    }

    protected void StartProcess(string file, IEnumerable<string> args, string? stdoutLog = null)
    {
        var info = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = stdoutLog is not null,
            RedirectStandardError = stdoutLog is not null,
            RedirectStandardInput = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        if (stdoutLog is not null)
        {
            var log = new StreamWriter(new FileStream(stdoutLog, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), Encoding.UTF8) { AutoFlush = true };
            _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
            _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        lock (Running)
        {
            Running.Add(this);
        }
    }

    /// <summary>Polls until the server answers, or fails with its log.</summary>
    protected async Task WaitUntilReadyAsync(Func<Task<bool>> probe, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process is { HasExited: true })
            {
                throw new InvalidOperationException($"{Kind} exited with code {_process.ExitCode} while starting.\n{LogTail()}");
            }

            try
            {
                if (await probe().ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException or InvalidOperationException or TimeoutException
                                           or MySqlConnector.MySqlException or System.Net.Http.HttpRequestException)
            {
                // not ready yet
            }

            await Task.Delay(50).ConfigureAwait(false);
        }

        throw new TimeoutException($"{Kind} did not answer on port {Port} within {timeout.TotalSeconds:0} s.\n{LogTail()}");
    }

    /// <summary>Asks the server to stop (SIGTERM), then kills it if it lingers.</summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        var process = _process;
        if (process is null)
        {
            return;
        }

        if (!process.HasExited)
        {
            SendTerm(process.Id);
            using var cts = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(15));
            try
            {
                await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().ConfigureAwait(false);
            }
        }

        Forget();
    }

    /// <summary>Kills the server at once (SIGKILL), as a crash would.</summary>
    public void Kill()
    {
        try
        {
            if (_process is { HasExited: false } p)
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        Forget();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        DeleteDirectory();
        GC.SuppressFinalize(this);
    }

    public void Dispose()
    {
        DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private void Forget()
    {
        lock (Running)
        {
            Running.Remove(this);
        }

        _process?.Dispose();
        _process = null;
    }

    private void DeleteDirectory()
    {
        if (Environment.GetEnvironmentVariable("ECOMDR_KEEP_TEST_SERVERS") == "1")
        {
            return;
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp folder is harmless
        }
    }

    private static void SendTerm(int pid)
    {
        if (OperatingSystem.IsWindows())
        {
            Process.GetProcessById(pid).Kill();
            return;
        }

        _ = NativeMethods.kill(pid, NativeMethods.SIGTERM);
    }

    private static class NativeMethods
    {
        public const int SIGTERM = 15;

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        public static extern int kill(int pid, int sig);
    }
}
