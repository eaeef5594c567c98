using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>The binlog reader on real MySQL 8.0 and 5.7 files (tests/vectors/mysql), which no server here can write.</summary>
public sealed class BinlogReaderTests
{
    private static byte[] Vector(string name) => File.ReadAllBytes(Path.Join(AppContext.BaseDirectory, "vectors", "mysql", name));

    [Fact]
    public void MySql80FileWithCompressedTransactionsReadsEventByEvent()
    {
        var file = Vector("mysql-8.0.31-bin.000057");
        var events = BinlogParser.ReadFile(file).ToList();

        Assert.Equal(new byte[] { 15, 35, 33, 2, 33, 40, 33, 40 }, events.Select(e => (byte)e.Type).ToArray());
        Assert.Equal(file.Length, events[^1].EndPosition);
        Assert.All(events.Zip(events.Skip(1)), pair => Assert.Equal(pair.First.EndPosition, pair.Second.Position));
        Assert.All(events, e => Assert.Equal(e.EndPosition, e.Header.NextPosition));

        var format = BinlogFormat.FromEvent(events[0].Raw.Span);
        Assert.Equal("8.0.31", format.ServerVersion);
        Assert.True(format.Checksums);

        // Three transactions from one server, numbered 11, 12, 13, each with its logical clock.
        var gtids = events.Where(e => e.Type == BinlogEventType.Gtid).Select(BinlogDecoders.Gtid).ToList();
        Assert.Single(gtids.Select(g => g.Text.Split(':')[0]).Distinct());
        Assert.Equal(new ulong[] { 11, 12, 13 }, gtids.Select(g => g.Sequence).ToArray());
        Assert.All(gtids, g => Assert.Equal(g.LastCommitted + 1, g.SequenceNumber));
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:11$", gtids[0].Text);
        Assert.StartsWith(gtids[0].Text.Split(':')[0] + ":1-10", BinlogDecoders.PreviousGtids(events[1]), StringComparison.Ordinal);

        Assert.Equal("create table b(id int)", BinlogDecoders.Query(events[3]).Sql);

        // Each payload decompresses to a whole transaction: BEGIN, table map, rows, XID; no checksums inside.
        foreach (var payload in events.Where(e => e.Type == BinlogEventType.TransactionPayload))
        {
            var inner = BinlogDecoders.TransactionPayload(payload);
            Assert.Equal(BinlogEventType.Query, inner[0].Type);
            Assert.Equal("BEGIN", BinlogDecoders.Query(inner[0]).Sql);
            Assert.Equal(BinlogEventType.RowsQuery, inner[1].Type); // binlog_rows_query_log_events was on
            Assert.Equal(BinlogEventType.TableMap, inner[2].Type);
            Assert.Contains(inner, e => BinlogDecoders.IsRows(e.Type));
            Assert.Equal(BinlogEventType.Xid, inner[^1].Type);
            var map = BinlogDecoders.TableMap(inner[2], format);
            // The ROWS_QUERY event carries the statement (after a length byte); it names the mapped table.
            var statement = System.Text.Encoding.UTF8.GetString(inner[1].Body.Span[1..]);
            Assert.Contains(map.Table, new[] { "b", "test_table_3" });
            Assert.Contains(map.Table, statement, StringComparison.Ordinal);
            Assert.Equal(map.TableId, BinlogDecoders.Rows(inner.First(e => BinlogDecoders.IsRows(e.Type)), format).TableId);
        }
    }

    [Fact]
    public void MySql57FileReadsEveryTransactionWithItsTables()
    {
        var file = Vector("mysql-5.7.40-bin.000080");
        var events = BinlogParser.ReadFile(file).ToList();
        Assert.Equal(37, events.Count);
        Assert.Equal(file.Length, events[^1].EndPosition);
        Assert.Equal(new[] { BinlogEventType.FormatDescription, BinlogEventType.PreviousGtids }, events.Take(2).Select(e => e.Type));
        var format = BinlogFormat.FromEvent(events[0].Raw.Span);
        Assert.StartsWith("5.7.40", format.ServerVersion, StringComparison.Ordinal);

        // Every GTID opens a group that ends with XID (rows) or is a single DDL query.
        var rowsTypes = new List<BinlogEventType>();
        var maps = 0;
        for (var i = 2; i < events.Count; i++)
        {
            Assert.Equal(BinlogEventType.Gtid, events[i].Type);
            var group = events.Skip(i + 1).TakeWhile(e => e.Type != BinlogEventType.Gtid).ToList();
            if (group[0].Type == BinlogEventType.Query && BinlogDecoders.Query(group[0]).Sql == "BEGIN")
            {
                Assert.Equal(BinlogEventType.Xid, group[^1].Type);
                var map = BinlogDecoders.TableMap(group.First(e => e.Type == BinlogEventType.TableMap), format);
                maps += group.Count(e => e.Type == BinlogEventType.TableMap);
                Assert.False(string.IsNullOrEmpty(map.Schema));
                foreach (var rows in group.Where(e => BinlogDecoders.IsRows(e.Type)))
                {
                    rowsTypes.Add(rows.Type);
                    Assert.Equal(map.TableId, BinlogDecoders.Rows(rows, format).TableId);
                }
            }

            i += group.Count;
        }

        // As `mariadb-binlog` lists the file: 5 table maps, 3 Write_rows and 2 Delete_rows (v2) events.
        Assert.Equal(5, maps);
        Assert.Equal(3, rowsTypes.Count(t => t == BinlogEventType.WriteRows));
        Assert.Equal(2, rowsTypes.Count(t => t == BinlogEventType.DeleteRows));
        Assert.Equal(5, rowsTypes.Count);
    }

    [Fact]
    public void AFlippedByteFailsTheChecksumOfItsEvent()
    {
        var file = Vector("mysql-5.7.40-bin.000080");
        var events = BinlogParser.ReadFile(file).ToList();
        var victim = events[5];
        file[victim.Position + BinlogEventHeader.Size + 2] ^= 0x40;
        var ex = Assert.Throws<InvalidDataException>(() => BinlogParser.ReadFile(file).ToList());
        Assert.Contains($"at {victim.Position}: CRC32 mismatch", ex.Message, StringComparison.Ordinal);

        var truncated = Vector("mysql-5.7.40-bin.000080")[..^10];
        Assert.Throws<InvalidDataException>(() => BinlogParser.ReadFile(truncated).ToList());
        Assert.Throws<InvalidDataException>(() => BinlogParser.ReadFile(new byte[] { 1, 2, 3, 4, 5 }).ToList());
    }
}
