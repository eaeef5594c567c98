using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>What a change did to a table.</summary>
public enum BinlogOperation
{
    Insert,
    Update,
    Delete,
    Ddl,
}

/// <summary>
/// One transaction's change to one table (rows events of one kind summed) or one statement (DDL,
/// or DML logged as a statement), with where its transaction starts: Restore-MySqlPitr
/// -StopBeforeEvent stops right before that transaction.
/// </summary>
public sealed record FoundBinlogEvent(
    DateTimeOffset Time,
    string Gtid,
    string File,
    long Position,
    long TransactionPosition,
    string Schema,
    string Table,
    BinlogOperation Operation,
    long? Rows,
    string? Statement)
{
    /// <summary>Whether this event's transaction starts before the other's in the binlog.</summary>
    public bool IsBefore(FoundBinlogEvent other) => new BinlogCoordinate(File, TransactionPosition) < new BinlogCoordinate(other.File, other.TransactionPosition);
}

/// <summary>Filters of Find-BinlogEvent. Schema and Table take * and ? wildcards, case-insensitive.</summary>
public sealed record BinlogSearchOptions(
    string? Schema = null,
    string? Table = null,
    IReadOnlyCollection<BinlogOperation>? Operations = null,
    DateTimeOffset? After = null,
    DateTimeOffset? Before = null,
    long MinRows = 0);

/// <summary>Searches the shipped binlog (the current chain, every artifact verified as it streams).</summary>
public static class BinlogSearch
{
    public static async IAsyncEnumerable<FoundBinlogEvent> FindAsync(RepositoryContext context, BinlogSearchOptions options,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var chain = (await BinlogChain.LoadAsync(context, ct).ConfigureAwait(false)).Current;
        var first = chain.FirstOrDefault(s => s.StartOffset == 0);
        if (first is null)
        {
            yield break;
        }

        var schema = Glob(options.Schema);
        var table = Glob(options.Table);
        bool Wanted(FoundBinlogEvent f) =>
            (schema is null || schema.IsMatch(f.Schema)) && (table is null || table.IsMatch(f.Table))
            && (options.Operations is not { Count: > 0 } ops || ops.Contains(f.Operation))
            && (options.After is not { } after || f.Time >= after) && (options.Before is not { } before || f.Time <= before)
            && (options.MinRows <= 0 || f.Rows >= options.MinRows);

        var transaction = new Transaction();
        await foreach (var item in SegmentEvents.ReadAsync(context, chain, first.File, 4, ct).ConfigureAwait(false))
        {
            var e = item.Event;
            if (e.Type == BinlogEventType.TransactionPayload)
            {
                foreach (var inner in BinlogDecoders.TransactionPayload(e))
                {
                    foreach (var found in transaction.Add(item.File, inner, item.Format).Where(Wanted))
                    {
                        yield return found;
                    }
                }

                continue;
            }

            foreach (var found in transaction.Add(item.File, e, item.Format).Where(Wanted))
            {
                yield return found;
            }
        }
    }

    private static Regex? Glob(string? pattern) => string.IsNullOrEmpty(pattern) ? null
        : new Regex("^" + Regex.Escape(pattern).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    internal static BinlogOperation? Classify(string sql)
    {
        var analysis = Statements.StatementAnalyzer.Analyze(sql, "");
        return analysis.Kind switch
        {
            Statements.StatementKind.Control => null,
            Statements.StatementKind.Unknown when analysis.Verb is "SET" or "" => null,
            Statements.StatementKind.Dml => analysis.Verb switch
            {
                "UPDATE" => BinlogOperation.Update,
                "DELETE" => BinlogOperation.Delete,
                _ => BinlogOperation.Insert,
            },
            _ => BinlogOperation.Ddl,
        };
    }

    /// <summary>The table a statement writes (schema-qualified or not), from the statement analyzer: "" when it names none.</summary>
    internal static (string? Schema, string Table) StatementTable(string sql)
    {
        var first = Statements.StatementAnalyzer.Analyze(sql, "").Writes.FirstOrDefault(w => w.Kind != Statements.SqlObjectKind.Database);
        return first is null ? (null, "") : (first.Schema.Length == 0 ? null : first.Schema, first.Name);
    }

    /// <summary>Folds a transaction's events into found events: rows summed per table and kind, statements one by one.</summary>
    private sealed class Transaction
    {
        private readonly Dictionary<ulong, TableMapInfo> _maps = new();
        private readonly List<FoundBinlogEvent> _changes = new();
        private string _gtid = "";
        private long _start;
        private string? _annotation;

        public IEnumerable<FoundBinlogEvent> Add(string file, BinlogEvent e, BinlogFormat format)
        {
            switch (e.Type)
            {
                case BinlogEventType.Gtid or BinlogEventType.AnonymousGtid or BinlogEventType.MariaGtid:
                    _gtid = BinlogDecoders.Gtid(e).Text;
                    _start = e.Position;
                    _maps.Clear();
                    _changes.Clear();
                    _annotation = null;
                    return [];
                case BinlogEventType.MariaAnnotateRows or BinlogEventType.RowsQuery:
                    _annotation = e.Type == BinlogEventType.MariaAnnotateRows ? BinlogDecoders.AnnotateRows(e) : RowsQueryText(e);
                    return [];
                case BinlogEventType.TableMap:
                    var map = BinlogDecoders.TableMap(e, format);
                    _maps[map.TableId] = map;
                    return [];
                case BinlogEventType.Xid:
                    return Flush();
                case BinlogEventType.Query:
                    return Query(file, e);
            }

            if (BinlogDecoders.IsRows(e.Type) && _maps.TryGetValue(BinlogDecoders.Rows(e, format).TableId, out var table))
            {
                var operation = RowsOperation(e.Type);
                var rows = RowImages.Count(e, format, table);
                var index = _changes.FindIndex(c => c.Schema == table.Schema && c.Table == table.Table && c.Operation == operation);
                if (index < 0)
                {
                    _changes.Add(new FoundBinlogEvent(e.Header.Time, _gtid, file, e.Position, _start, table.Schema, table.Table, operation, rows, _annotation));
                }
                else
                {
                    var known = _changes[index];
                    _changes[index] = known with { Rows = known.Rows is { } n && rows is { } m ? n + m : null };
                }
            }

            return [];
        }

        private IEnumerable<FoundBinlogEvent> Query(string file, BinlogEvent e)
        {
            var query = BinlogDecoders.Query(e);
            if (query.Sql is "COMMIT")
            {
                return Flush();
            }

            if (Classify(query.Sql) is not { } operation)
            {
                return [];
            }

            var (schema, table) = StatementTable(query.Sql);
            var found = new FoundBinlogEvent(e.Header.Time, _gtid, file, e.Position, _start, schema ?? query.Schema, table, operation, null, query.Sql);
            if (operation == BinlogOperation.Ddl)
            {
                // DDL commits itself: its transaction is this one statement.
                return [found];
            }

            _changes.Add(found);
            return [];
        }

        private List<FoundBinlogEvent> Flush()
        {
            var done = _changes.ToList();
            _changes.Clear();
            _maps.Clear();
            _annotation = null;
            return done;
        }

        private static string RowsQueryText(BinlogEvent e) => System.Text.Encoding.UTF8.GetString(e.Body.Span[1..]); // a length byte, then the text

        private static BinlogOperation RowsOperation(BinlogEventType type) => type switch
        {
            BinlogEventType.WriteRows or BinlogEventType.WriteRowsV1 or BinlogEventType.MariaWriteRowsCompressed or BinlogEventType.MariaWriteRowsCompressedV1 => BinlogOperation.Insert,
            BinlogEventType.DeleteRows or BinlogEventType.DeleteRowsV1 or BinlogEventType.MariaDeleteRowsCompressed or BinlogEventType.MariaDeleteRowsCompressedV1 => BinlogOperation.Delete,
            _ => BinlogOperation.Update,
        };
    }
}
