using System.Runtime.CompilerServices;
using System.Text;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Pitr;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>
/// Replay on the layouts of real MySQL binlogs (tests/vectors/mysql; no MySQL server runs here): the
/// 8.0 file's transactions read whole (a standalone DDL, two compressed TRANSACTION_PAYLOADs opened in
/// place), each commit time from the GTID event's immediate_commit_timestamp, and the review script
/// replay writes for them: gtid_next set and reset for each, BINLOG statements whose events carry a
/// CRC32 (payload events have none), a stop by GTID and by commit time exact to the transaction.
/// </summary>
public sealed class MySqlReplayShapeTests
{
    private static byte[] Vector(string name) => File.ReadAllBytes(Path.Join(AppContext.BaseDirectory, "vectors", "mysql", name));

    private static async IAsyncEnumerable<ArchivedEvent> Events(string name, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var parser = new BinlogParser();
        var file = Vector(name);
        await Task.Yield();
        var position = 4L;
        while (position < file.Length)
        {
            var size = BitConverter.ToInt32(file, (int)position + 9);
            var e = parser.Parse(file.AsMemory((int)position, size), position);
            position += size;
            yield return new ArchivedEvent(name, e, parser.Format);
        }
    }

    [Fact]
    public async Task MySql80TransactionsAreReadWholeWithTheirCommitTimes()
    {
        var transactions = new List<(string? Gtid, bool Standalone, int Events, DateTimeOffset? Commit, long End)>();
        await foreach (var t in TransactionReader.ReadAsync(Events("mysql-8.0.31-bin.000057"), 1 << 20, CancellationToken.None))
        {
            await using (t)
            {
                Assert.Equal(TransactionEnd.Committed, t.End);
                transactions.Add((t.GtidText, t.Standalone, t.Events.Count, t.CommitTime, t.EndPosition));
            }
        }

        var file = BinlogParser.ReadFile(Vector("mysql-8.0.31-bin.000057")).ToList();
        var gtidEvents = file.Where(e => e.Type == BinlogEventType.Gtid).ToList();
        Assert.Equal(gtidEvents.Select(e => BinlogDecoders.Gtid(e).Text), transactions.Select(t => t.Gtid));
        Assert.Equal(new[] { true, false, false }, transactions.Select(t => t.Standalone));
        // The DDL is one event; each payload holds BEGIN, ROWS_QUERY, TABLE_MAP, rows and XID.
        Assert.Equal(1, transactions[0].Events);
        Assert.All(transactions.Skip(1), t => Assert.True(t.Events >= 5));
        Assert.Equal(file[^1].EndPosition, transactions[^1].End);
        // immediate_commit_timestamp: microseconds, in the second the GTID event was written.
        foreach (var (t, e) in transactions.Zip(gtidEvents))
        {
            Assert.NotNull(t.Commit);
            Assert.Equal(e.Header.Timestamp, (uint)t.Commit!.Value.ToUnixTimeSeconds());
        }
    }

    [Fact]
    public async Task TheReviewScriptForMySqlSetsEachGtidAndGivesPayloadEventsTheirChecksum()
    {
        using var output = new MemoryStream();
        var script = new ScriptSink(output);
        var result = await BinlogReplayer.ReplayAsync(script, Events("mysql-8.0.31-bin.000057"), new ReplayOptions(), null, CancellationToken.None);
        var text = Encoding.UTF8.GetString(output.ToArray());
        var gtids = BinlogParser.ReadFile(Vector("mysql-8.0.31-bin.000057")).Where(e => e.Type == BinlogEventType.Gtid).Select(e => BinlogDecoders.Gtid(e).Text).ToList();

        Assert.Equal(3, result.Transactions);
        Assert.Equal(gtids[^1], result.LastGtid);
        foreach (var gtid in gtids)
        {
            Assert.Contains($"SET @@session.gtid_next='{gtid}'", text, StringComparison.Ordinal);
        }

        Assert.Equal(3, CountOf(text, "SET @@session.gtid_next='AUTOMATIC'"));
        Assert.Contains("create table b(id int)", text, StringComparison.Ordinal);
        // Every BINLOG statement decodes to events whose sizes add up and whose CRC32 checks (the parser verifies it).
        var binlogs = text.Split("BINLOG '").Skip(1).Select(s => Convert.FromBase64String(s[..s.IndexOf('\'', StringComparison.Ordinal)])).ToList();
        var file = BinlogParser.ReadFile(Vector("mysql-8.0.31-bin.000057")).ToList();
        var format = BinlogFormat.FromEvent(file[0].Raw.Span);
        var statements = file.Where(e => e.Type == BinlogEventType.TransactionPayload).SelectMany(BinlogDecoders.TransactionPayload)
            .Count(e => BinlogDecoders.IsRows(e.Type) && (BinlogDecoders.Rows(e, format).Flags & BinlogDecoders.RowsEndOfStatement) != 0);
        Assert.Equal(1 + statements, binlogs.Count); // the FORMAT_DESCRIPTION, then one BINLOG statement per row statement
        var parser = new BinlogParser();
        foreach (var statement in binlogs)
        {
            for (var at = 0; at < statement.Length;)
            {
                var size = BitConverter.ToInt32(statement, at + 9);
                parser.Parse(statement.AsMemory(at, size), at); // throws on a CRC32 mismatch
                at += size;
            }
        }

        // Stopping before the last GTID, and at the second transaction's commit time, stops exactly there.
        var before = await BinlogReplayer.ReplayAsync(new ScriptSink(Stream.Null), Events("mysql-8.0.31-bin.000057"), new ReplayOptions(StopBeforeGtid: gtids[2]), null, CancellationToken.None);
        Assert.Equal((2L, gtids[1], $"before GTID {gtids[2]}"), (before.Transactions, before.LastGtid, before.StoppedBecause));
        var second = BinlogDecoders.Gtid(BinlogParser.ReadFile(Vector("mysql-8.0.31-bin.000057")).Where(e => e.Type == BinlogEventType.Gtid).ElementAt(1)).CommitTime!.Value;
        var timed = await BinlogReplayer.ReplayAsync(new ScriptSink(Stream.Null), Events("mysql-8.0.31-bin.000057"), new ReplayOptions(TargetTime: second), null, CancellationToken.None);
        Assert.Equal(gtids[1], timed.LastGtid);
        Assert.Equal(second, timed.LastCommitTime);
    }

    private static int CountOf(string text, string what) => (text.Length - text.Replace(what, "", StringComparison.Ordinal).Length) / what.Length;
}
