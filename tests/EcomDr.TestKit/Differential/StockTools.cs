using System.Diagnostics;
using System.Text.RegularExpressions;
using EcomDr.TestKit.Servers;
using MySqlConnector;

namespace EcomDr.TestKit.Differential;

/// <summary>
/// The stock tools as the reference: `mariadb-binlog --start-position … --stop-position … | mariadb` on
/// the source's own binlog files, and what a server's binlog says about the GTIDs it holds.
/// </summary>
public static partial class StockTools
{
    /// <summary>Replays the source's binlog from one position to another into a target with the stock tools; their errors are thrown.</summary>
    public static async Task ReplayAsync(MariaDbServer source, string startFile, long startPosition, string stopFile, long stopPosition, MariaDbServer target)
    {
        var files = Directory.GetFiles(source.DataDirectory, "binlog.0*").Select(Path.GetFileName).Order(StringComparer.Ordinal)
            .Where(f => string.CompareOrdinal(f, startFile) >= 0 && string.CompareOrdinal(f, stopFile) <= 0)
            .Select(f => Path.Join(source.DataDirectory, f)).ToList();
        var pipe = $"set -o pipefail; mariadb-binlog --no-defaults --start-position={startPosition} --stop-position={stopPosition} {string.Join(' ', files.Select(f => $"'{f}'"))}"
            + $" | mariadb --no-defaults --host=127.0.0.1 --port={target.Port} --user=root";
        using var bash = Process.Start(new ProcessStartInfo("bash", new[] { "-c", pipe }) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var errors = bash.StandardError.ReadToEndAsync();
        var output = bash.StandardOutput.ReadToEndAsync();
        await bash.WaitForExitAsync().ConfigureAwait(false);
        if (bash.ExitCode != 0)
        {
            throw new InvalidOperationException($"mariadb-binlog | mariadb failed ({bash.ExitCode}): {await errors.ConfigureAwait(false)}{await output.ConfigureAwait(false)}");
        }
    }

    /// <summary>Runs a SQL script through the stock `mariadb` client (in <paramref name="database"/> when given); its errors are thrown.</summary>
    public static async Task RunScriptAsync(string script, MariaDbServer target, string? database = null)
    {
        var info = new ProcessStartInfo("mariadb") { RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "--no-defaults", "--host=127.0.0.1", $"--port={target.Port}", "--user=root", "--default-character-set=utf8mb4" })
        {
            info.ArgumentList.Add(arg);
        }

        if (database is not null)
        {
            info.ArgumentList.Add(database);
        }

        using var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        try
        {
            await using (var input = File.OpenRead(script))
            {
                await input.CopyToAsync(process.StandardInput.BaseStream).ConfigureAwait(false);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The client stopped reading (it failed on a statement): its own error, below, says why.
        }

        await process.WaitForExitAsync().ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"mariadb < {script} failed ({process.ExitCode}): {await errors.ConfigureAwait(false)}{await output.ConfigureAwait(false)}");
        }
    }

    /// <summary>Every GTID a MariaDB server's binlog files hold, in order (duplicates kept: a GTID logged twice is a replay bug).</summary>
    public static async Task<IReadOnlyList<string>> BinlogGtidsAsync(MariaDbServer server)
    {
        await using var c = await server.OpenRootAsync().ConfigureAwait(false);
        var files = new List<string>();
        await using (var list = new MySqlCommand("SHOW BINARY LOGS", c))
        await using (var reader = await list.ExecuteReaderAsync().ConfigureAwait(false))
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                files.Add(reader.GetString(0));
            }
        }

        var gtids = new List<string>();
        foreach (var file in files)
        {
            await using var events = new MySqlCommand($"SHOW BINLOG EVENTS IN '{file}'", c);
            await using var reader = await events.ExecuteReaderAsync().ConfigureAwait(false);
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                if (reader.GetString(2) == "Gtid" && GtidInInfo().Match(reader.GetString(5)) is { Success: true } m)
                {
                    gtids.Add(m.Groups[1].Value);
                }
            }
        }

        return gtids;
    }

    [GeneratedRegex(@"GTID (\d+-\d+-\d+)")]
    private static partial Regex GtidInInfo();
}
