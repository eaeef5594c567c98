using System.Diagnostics;
using System.Text.RegularExpressions;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>The binlog reader on files a real MariaDB server wrote, checked against the stock mariadb-binlog tool.</summary>
public sealed class MariaDbBinlogTests : IAsyncLifetime
{
    private MariaDbServer _server = null!;

    public async Task InitializeAsync() => _server = await MariaDbServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task EveryEventOfAMariaDbFileIsFoundWhereMariadbBinlogFindsIt()
    {
        await _server.ExecuteAsync("""
            CREATE DATABASE shop;
            CREATE TABLE shop.t (id INT PRIMARY KEY, note VARCHAR(50), b BLOB);
            INSERT INTO shop.t VALUES (1, 'one', X'00FF'), (2, 'two', NULL);
            START TRANSACTION; UPDATE shop.t SET note = 'uno' WHERE id = 1; DELETE FROM shop.t WHERE id = 2; INSERT INTO shop.t VALUES (3, REPEAT('x', 50), NULL); COMMIT;
            """);
        var file = Convert.ToString(await _server.ScalarAsync("SELECT SUBSTRING_INDEX(@@GLOBAL.log_bin_basename, '/', -1)"));
        await _server.ExecuteAsync("FLUSH BINARY LOGS");
        var path = Directory.GetFiles(_server.DataDirectory, $"{file}.0*").OrderBy(f => f).First();
        var bytes = await File.ReadAllBytesAsync(path);

        var events = BinlogParser.ReadFile(bytes).ToList();
        Assert.Equal(bytes.Length, events[^1].EndPosition);
        Assert.Equal(await StockPositionsAsync(path), events.Select(e => e.Position).ToList());

        var format = BinlogFormat.FromEvent(events[0].Raw.Span);
        Assert.True(format.IsMariaDb);
        Assert.True(format.Checksums);
        Assert.Contains(events, e => e.Type == BinlogEventType.MariaGtidList);
        Assert.Contains(events, e => e.Type == BinlogEventType.MariaBinlogCheckpoint);
        Assert.Equal(BinlogEventType.Rotate, events[^1].Type);
        Assert.Equal(Path.GetFileName(path)[..^1] + "2", BinlogDecoders.Rotate(events[^1]).NextFile);

        // CREATE DATABASE, CREATE TABLE (standalone DDL), the insert and the three-statement transaction.
        var gtids = events.Where(e => e.Type == BinlogEventType.MariaGtid).Select(BinlogDecoders.Gtid).ToList();
        Assert.Equal(new[] { true, true, false, false }, gtids.Select(g => g.Standalone));
        Assert.Equal(Convert.ToString(await _server.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos")), gtids[^1].Text);
        Assert.Equal(gtids.Select(g => g.Sequence), Enumerable.Range(1, 4).Select(i => gtids[0].Sequence + (ulong)i - 1));
        Assert.Contains("UPDATE shop.t SET note = 'uno' WHERE id = 1", events.Where(e => e.Type == BinlogEventType.MariaAnnotateRows).Select(BinlogDecoders.AnnotateRows));
        var maps = events.Where(e => e.Type == BinlogEventType.TableMap).Select(e => BinlogDecoders.TableMap(e, format)).ToList();
        Assert.All(maps, m => Assert.Equal(("shop", "t", 3), (m.Schema, m.Table, m.ColumnCount)));
        Assert.Equal(4, events.Count(e => BinlogDecoders.IsRows(e.Type)));
        Assert.Equal(2, events.Count(e => e.Type == BinlogEventType.Xid));
    }

    [Fact]
    public async Task TheReplicationClientStartsAfterAGtidAndStopsAtTheEndWhenNonBlocking()
    {
        await _server.ExecuteAsync("CREATE DATABASE r; CREATE TABLE r.t (id INT PRIMARY KEY)");
        var gtids = new List<string>();
        for (var i = 1; i <= 3; i++)
        {
            await _server.ExecuteAsync($"INSERT INTO r.t VALUES ({i})");
            gtids.Add(Convert.ToString(await _server.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos"))!);
        }

        var endpoint = new EcomDr.Engine.Sources.MySql.Shared.MySqlEndpoint("127.0.0.1", _server.Port, "root", EcomDr.Engine.Credentials.Secret.Empty, "None");
        await using var client = await BinlogDumpClient.StartAsync(endpoint, new BinlogDumpRequest(4343, "", 4, NonBlocking: true, MariaDbGtidState: gtids[0]), CancellationToken.None);
        var received = new List<string>();
        var rows = 0;
        while (await client.ReadAsync(CancellationToken.None) is { } e)
        {
            if (e.Type == BinlogEventType.MariaGtid)
            {
                received.Add(BinlogDecoders.Gtid(e).Text);
            }

            rows += BinlogDecoders.IsRows(e.Type) ? 1 : 0;
        }

        // Exactly the transactions after the state: the second and third insert, each with its row event.
        Assert.Equal(gtids.Skip(1), received);
        Assert.Equal(2, rows);
        Assert.True(client.Format.IsMariaDb && client.Format.Checksums);
    }

    private static async Task<List<long>> StockPositionsAsync(string path)
    {
        using var tool = Process.Start(new ProcessStartInfo("mariadb-binlog", new[] { "--no-defaults", "--base64-output=never", path }) { RedirectStandardOutput = true })!;
        var text = await tool.StandardOutput.ReadToEndAsync();
        await tool.WaitForExitAsync();
        Assert.Equal(0, tool.ExitCode);
        return Regex.Matches(text, @"^# at (\d+)$", RegexOptions.Multiline).Select(m => long.Parse(m.Groups[1].Value)).Distinct().ToList();
    }
}
