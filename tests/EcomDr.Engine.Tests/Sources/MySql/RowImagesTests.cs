using System.Diagnostics;
using System.Text.RegularExpressions;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.TestKit.Servers;
using EcomDr.TestKit.Shop;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>Row counting from row images, checked event by event against the rows the stock mariadb-binlog -v prints.</summary>
public sealed class RowImagesTests : IAsyncLifetime
{
    private MariaDbServer _server = null!;

    public async Task InitializeAsync() => _server = await MariaDbServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task EveryColumnTypeAndTheShopWorkloadCountAsTheStockToolPrintsThem()
    {
        await _server.ExecuteAsync("""
            CREATE DATABASE t;
            CREATE TABLE t.all_types (
              id INT PRIMARY KEY, ti TINYINT, si SMALLINT UNSIGNED, mi MEDIUMINT, bi BIGINT, f FLOAT, d DOUBLE,
              d1 DECIMAL(5,2), d2 DECIMAL(30,10), d3 DECIMAL(65,30), dt DATE, tm TIME(3), dtm DATETIME(6), ts TIMESTAMP(2) NULL, y YEAR,
              c1 CHAR(10) CHARACTER SET latin1, c2 CHAR(100) CHARACTER SET utf8mb4, v1 VARCHAR(10), v2 VARCHAR(300) CHARACTER SET utf8mb4,
              b1 BINARY(4), vb VARBINARY(20), tt TINYTEXT, tx TEXT, mt MEDIUMTEXT, lb LONGBLOB,
              e ENUM('a','b','c'), s SET('s1','s2','s3','s4','s5','s6','s7','s8','s9','s10'), bt1 BIT(1), bt2 BIT(13), j JSON, g POINT,
              old_dt DATETIME, old_ts TIMESTAMP NULL
            );
            INSERT INTO t.all_types (id, ti, si, mi, bi, f, d, d1, d2, d3, dt, tm, dtm, ts, y, c1, c2, v1, v2, b1, vb, tt, tx, mt, lb, e, s, bt1, bt2, j, g, old_dt, old_ts) VALUES
              (1, -1, 65535, -8388608, 9223372036854775807, 1.5, -2.25, 123.45, 12345678901234567890.0123456789, -1.5, '2026-11-29', '-838:59:59.999', '2026-11-29 12:00:00.123456', '2026-11-29 12:00:00.12', 2026,
               'ascii', REPEAT('é', 100), 'short', REPEAT('ü', 299), X'00010203', X'FF', 'tiny', REPEAT('t', 1000), REPEAT('m', 70000), REPEAT(X'AB', 300000),
               'b', 's1,s9,s10', b'1', b'1010101010101', '{"k": [1, 2, 3]}', POINT(1, 2), '2020-01-01 00:00:00', '2020-01-01 00:00:01'),
              (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
              (3, 7, 7, 7, 7, 7, 7, 7, 7, 7, '2000-02-29', '00:00:01', '1999-12-31 23:59:59', NULL, 1999, '', '', '', '', X'00000000', X'', '', '', '', X'', 'c', '', b'0', b'0', '[]', POINT(0, 0), NULL, NULL);
            UPDATE t.all_types SET v2 = CONCAT(COALESCE(v2, ''), 'x'), d2 = COALESCE(d2, 0) + 1 WHERE id <= 3;
            DELETE FROM t.all_types WHERE id IN (1, 3);
            """);
        await ShopGenerator.CreateAsync(_server.RootConnectionString, "shop", new ShopSize(50, 10, 200), 3, 1);
        var workload = ShopWorkload.Start(_server.RootConnectionString, "shop", 2, 100, 7);
        await Task.Delay(700);
        await workload.StopAsync();
        await _server.ExecuteAsync("DELETE FROM shop.order_status_history WHERE order_id <= 20; UPDATE shop.inventory SET on_hand = on_hand + 1");

        var file = Convert.ToString(await _server.ScalarAsync("SELECT SUBSTRING_INDEX(@@GLOBAL.log_bin_basename, '/', -1)"));
        await _server.ExecuteAsync("FLUSH BINARY LOGS");
        var path = Directory.GetFiles(_server.DataDirectory, $"{file}.0*").OrderBy(f => f).First();
        var counted = Count(path);
        var stock = await StockCountsAsync(path);
        Assert.True(stock.Count >= 20, $"the stock tool printed only {stock.Count} row events");
        Assert.Equal(stock, counted);
        Assert.Contains(counted, c => c.Value >= 100); // the inventory UPDATE
    }

    [Fact]
    public async Task MySql57RowEventsCountAsTheStockToolPrintsThem()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "vectors", "mysql", "mysql-5.7.40-bin.000080");
        Assert.Equal(await StockCountsAsync(path), Count(path));
    }

    [Fact]
    public void MySql80CompressedTransactionsHoldRowEventsThatWalkToTheirEnd()
    {
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "vectors", "mysql", "mysql-8.0.31-bin.000057"));
        var events = BinlogParser.ReadFile(bytes).ToList();
        var format = BinlogFormat.FromEvent(events[0].Raw.Span);
        var inner = events.Where(e => e.Type == BinlogEventType.TransactionPayload).SelectMany(BinlogDecoders.TransactionPayload).ToList();
        var maps = new Dictionary<ulong, TableMapInfo>();
        var counts = new List<int?>();
        foreach (var e in inner)
        {
            if (e.Type == BinlogEventType.TableMap)
            {
                var map = BinlogDecoders.TableMap(e, format);
                maps[map.TableId] = map;
            }
            else if (BinlogDecoders.IsRows(e.Type))
            {
                counts.Add(RowImages.Count(e, format, maps[BinlogDecoders.Rows(e, format).TableId]));
            }
        }

        Assert.NotEmpty(counts);
        Assert.All(counts, c => Assert.True(c >= 1));
    }

    [Theory]
    [InlineData("810DFB38D204D2", 14, 4, "1234567890.1234")] // the example of MySQL's decimal storage documentation
    [InlineData("7EF204C72DFB2D", 14, 4, "-1234567890.1234")]
    [InlineData("8000", 3, 1, "0.0")]
    [InlineData("83", 2, 2, "0.03")]
    public void PackedDecimalsReadAsTheirText(string hex, int precision, int scale, string text)
    {
        Assert.Equal(hex.Length / 2, DecimalBinary.Size(precision, scale));
        Assert.Equal(text, DecimalBinary.ToText(Convert.FromHexString(hex), precision, scale));
    }

    /// <summary>
    /// Rows per statement, keyed by the end position of its last rows event: the stock tool prints a
    /// statement's rows after that event, whatever number of events they were split into.
    /// </summary>
    private static Dictionary<long, int> Count(string path)
    {
        var maps = new Dictionary<ulong, TableMapInfo>();
        var result = new Dictionary<long, int>();
        var pending = 0;
        BinlogFormat? format = null;
        foreach (var e in BinlogParser.ReadFile(File.ReadAllBytes(path)))
        {
            if (e.Type == BinlogEventType.FormatDescription)
            {
                format = BinlogFormat.FromEvent(e.Raw.Span);
            }
            else if (e.Type == BinlogEventType.TableMap)
            {
                var map = BinlogDecoders.TableMap(e, format!);
                maps[map.TableId] = map;
            }
            else if (BinlogDecoders.IsRows(e.Type))
            {
                var (tableId, flags) = BinlogDecoders.Rows(e, format!);
                pending += RowImages.Count(e, format!, maps[tableId])!.Value;
                if ((flags & BinlogDecoders.RowsEndOfStatement) != 0)
                {
                    result[e.EndPosition] = pending;
                    pending = 0;
                }
            }
        }

        return result;
    }

    private static async Task<Dictionary<long, int>> StockCountsAsync(string path)
    {
        var start = new ProcessStartInfo("mariadb-binlog") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-v", "--base64-output=decode-rows", path })
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        var result = new Dictionary<long, int>();
        long current = -1;
        foreach (var line in output.Split('\n'))
        {
            var header = Regex.Match(line, @"end_log_pos (\d+) .*\b(Write|Update|Delete)_rows.*STMT_END_F");
            if (header.Success)
            {
                current = long.Parse(header.Groups[1].Value);
                result[current] = 0;
            }
            else if (Regex.IsMatch(line, @"^### (INSERT INTO|UPDATE|DELETE FROM) "))
            {
                result[current]++;
            }
        }

        return result;
    }
}
