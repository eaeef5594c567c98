using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Statements;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>What replay does with one event of a transaction it applies.</summary>
internal enum EventAction : byte
{
    /// <summary>Not applied: another schema's rows or statement, or nothing to replay (annotations).</summary>
    Skip,

    /// <summary>Applied: a statement inside the target, a table map or rows of a replayed table.</summary>
    Apply,

    /// <summary>IntVar/Rand/UserVar: applied right before the next statement, if that statement is.</summary>
    Context,

    /// <summary>BEGIN, COMMIT, XID, XA_PREPARE: the transaction's frame, which the applier writes itself.</summary>
    Frame,
}

/// <summary>A statement replay did not apply because it writes outside the restored schemas, or because -SkipGtid named it.</summary>
public sealed record SkippedStatement(string Gtid, string Position, string Reason, string Statement)
{
    public override string ToString() => $"{(Gtid.Length > 0 ? Gtid : Position)}: {Reason}";
}

/// <summary>The decision for one transaction: an action per event, and what was left out.</summary>
internal sealed class TransactionPlan
{
    public List<EventAction> Actions { get; } = new();

    public List<SkippedStatement> Skipped { get; } = new();

    /// <summary>Whether any statement or row event is applied (else the transaction is another schema's).</summary>
    public bool AppliesAnything { get; set; }

    /// <summary>
    /// The index of a DDL statement that commits implicitly inside a transaction that goes on after it
    /// (MariaDB's CREATE TABLE … SELECT: the CREATE, then the rows, under one GTID).
    /// </summary>
    public int? ImplicitCommitAt { get; set; }

    /// <summary>Whether the first statement kept starts the transaction itself (MySQL's CREATE TABLE … START TRANSACTION, XA START).</summary>
    public bool StatementOpens { get; set; }

    /// <summary>A standalone XA COMMIT or XA ROLLBACK: the XID it completes.</summary>
    public string? CompletesXid { get; set; }

    /// <summary>
    /// Statements (by index) that create a restored table LIKE a table outside the restored schemas:
    /// that table, and the statements that rebuild it as it was, as a temporary table (<see cref="OutsideStructure"/>).
    /// </summary>
    public Dictionary<int, (Statements.SqlObject Source, uint ThreadId, IReadOnlyList<string> Build)> Shadows { get; } = new();
}

/// <summary>
/// Decides, before anything of a transaction is applied, which of its events replay applies: only
/// what lies inside the restored schemas, renamed to the target. A row event is kept when its table
/// map names a replayed schema. A statement is kept when every object it creates, alters, drops or
/// writes is inside them (<see cref="StatementAnalyzer"/>); skipped, and recorded when it names a
/// restored schema, when everything it writes is outside; and refused, before the transaction is
/// applied, when it writes both inside and outside, or when what it writes is not known and it
/// concerns a restored schema. -SkipGtid goes past a refused transaction knowingly.
/// </summary>
internal sealed class ReplayScope
{

    private readonly HashSet<string>? _replayed;
    private readonly OutsideStructure _outside;

    /// <summary>An empty map replays every schema as it is; <paramref name="outsideTables"/> is the full backup's record of the others' tables.</summary>
    public ReplayScope(IReadOnlyDictionary<string, string> map, IReadOnlyList<Dump.OutsideTable>? outsideTables = null)
    {
        _replayed = map.Count > 0 ? map.Keys.ToHashSet(StringComparer.Ordinal) : null;
        _outside = new OutsideStructure(outsideTables, schema => Inside(schema) && schema.Length > 0);
    }

    public bool Inside(string schema) => _replayed is null || _replayed.Contains(schema);

    public async Task<TransactionPlan> PlanAsync(BinlogTransaction transaction, CancellationToken ct)
    {
        var plan = new TransactionPlan();
        var skippedTables = new HashSet<ulong>();
        var pendingContext = new List<int>();
        var appliedAfterDdl = false;
        var index = -1;
        await foreach (var item in transaction.Events.ReadAsync(ct).ConfigureAwait(false))
        {
            index++;
            var e = item.Event;
            var action = EventAction.Skip;
            switch (e.Type)
            {
                case BinlogEventType.TableMap:
                    var map = BinlogDecoders.TableMap(e, item.Format);
                    if (Inside(map.Schema))
                    {
                        skippedTables.Remove(map.TableId);
                        action = EventAction.Apply;
                    }
                    else
                    {
                        skippedTables.Add(map.TableId);
                    }

                    break;
                case BinlogEventType.Xid or BinlogEventType.XaPrepare:
                    action = EventAction.Frame;
                    break;
                case BinlogEventType.IntVar or BinlogEventType.Rand or BinlogEventType.UserVar:
                    action = EventAction.Context;
                    pendingContext.Add(index);
                    break;
                case BinlogEventType.MariaAnnotateRows or BinlogEventType.RowsQuery or BinlogEventType.Ignorable or BinlogEventType.TransactionContext or BinlogEventType.ViewChange:
                    break;
                case BinlogEventType.Query:
                    action = Statement(transaction, item, plan, index);
                    if (action != EventAction.Apply)
                    {
                        foreach (var at in pendingContext)
                        {
                            plan.Actions[at] = EventAction.Skip;
                        }
                    }

                    pendingContext.Clear();
                    break;
                case BinlogEventType.BeginLoadQuery or BinlogEventType.ExecuteLoadQuery or (BinlogEventType)9 or (BinlogEventType)11:
                    throw Refused(ErrorIds.ReplayUnsupportedStatement, transaction,
                        "it is a LOAD DATA logged as a statement (binlog_format=STATEMENT or MIXED), whose file the binlog holds in pieces that replay does not reassemble; use binlog_format=ROW",
                        "LOAD DATA");
                default:
                    if (!BinlogDecoders.IsRows(e.Type))
                    {
                        throw Refused(ErrorIds.ReplayUnsupportedStatement, transaction, $"it holds a {e.Type} event ({(int)e.Type}) that replay does not know how to apply", e.Type.ToString());
                    }

                    if (!skippedTables.Contains(BinlogDecoders.Rows(e, item.Format).TableId))
                    {
                        action = EventAction.Apply;
                    }

                    break;
            }

            plan.Actions.Add(action);
            if (action == EventAction.Apply)
            {
                plan.AppliesAnything = true;
                appliedAfterDdl |= plan.ImplicitCommitAt is { } ddl && index > ddl;
            }
        }

        if (plan.ImplicitCommitAt is not null && !appliedAfterDdl)
        {
            plan.ImplicitCommitAt = null; // nothing follows it: a DDL like any other
        }

        return plan;
    }

    /// <summary>The action for one QUERY event, refusing the transaction when the statement writes both inside and outside.</summary>
    private EventAction Statement(BinlogTransaction transaction, ArchivedEvent item, TransactionPlan plan, int index)
    {
        var query = BinlogDecoders.Query(item.Event);
        var sql = query.Sql;
        if (sql is "BEGIN" or "COMMIT" or "ROLLBACK")
        {
            return EventAction.Frame;
        }

        var (ansi, noBackslash) = QueryContext.Lexing(query.StatusVariables.Span);
        var schema = (item.Event.Header.Flags & SuppressUseFlag) != 0 ? "" : query.Schema;
        var analysis = StatementAnalyzer.Analyze(sql, schema, ansi, noBackslash);
        var concerns = Inside(schema) && schema.Length > 0 && _replayed is not null || analysis.Named.Any(n => _replayed?.Contains(n) == true);
        if (analysis.Kind == StatementKind.Control)
        {
            if (sql.StartsWith("XA ", StringComparison.OrdinalIgnoreCase))
            {
                return Xa(transaction, plan, sql);
            }

            return EventAction.Apply; // SAVEPOINT, ROLLBACK TO, RELEASE SAVEPOINT: within the transaction
        }

        if (analysis.Kind == StatementKind.Server)
        {
            // Its literals are withheld: an account statement carries a password or its hash.
            Record(plan, transaction, concerns, "a server-level statement (accounts, privileges, plugins): not part of a schema restore", WithoutLiterals(sql));
            return EventAction.Skip;
        }

        var inside = analysis.Writes.Where(w => Inside(w.Schema) && w.Schema.Length > 0).ToList();
        var outside = analysis.Writes.Where(w => !Inside(w.Schema) || w.Schema.Length == 0).ToList();
        if (analysis.Kind == StatementKind.Unknown || analysis.Writes.Count == 0)
        {
            if (analysis.Kind == StatementKind.Unknown)
            {
                _outside.FollowUnknown(analysis.Named, sql);
            }

            if (!concerns)
            {
                return EventAction.Skip; // another database's business
            }

            throw Refused(ErrorIds.ReplayUnsupportedStatement, transaction,
                $"replay cannot tell what its {analysis.Verb} statement writes, and it concerns a restored schema", sql);
        }

        if (inside.Count > 0 && outside.Count > 0)
        {
            throw Refused(ErrorIds.ReplayWritesOutsideTarget, transaction,
                $"its {analysis.Verb} statement writes inside the restored schemas ({string.Join(", ", inside.Distinct())}) and outside them ({string.Join(", ", outside.Distinct())}); applying it would change a schema outside the target, and leaving it out would change the target",
                sql);
        }

        if (inside.Count == 0)
        {
            if (analysis.Kind == StatementKind.Ddl)
            {
                _outside.Follow(analysis, query, item.Event.Header.Timestamp, ansi, noBackslash);
            }

            Record(plan, transaction, concerns, $"its {analysis.Verb} writes outside the restored schemas ({string.Join(", ", outside.Distinct())})", sql);
            return EventAction.Skip;
        }

        if (analysis.LikeSource is { } source && !Inside(source.Schema)
            && _outside.Build(source, query.ThreadId, why => Refused(ErrorIds.ReplayUnsupportedStatement, transaction, why, sql)) is { } shadow)
        {
            plan.Shadows[index] = (source, query.ThreadId, shadow);
        }

        if (plan.Actions.Count == 0 || plan.Actions.All(a => a is EventAction.Skip or EventAction.Context))
        {
            plan.StatementOpens |= analysis.StartsTransaction;
        }

        if (analysis.CommitsImplicitly && transaction.Opened && !transaction.Standalone && plan.ImplicitCommitAt is null)
        {
            plan.ImplicitCommitAt = index;
        }

        return EventAction.Apply;
    }

    /// <summary>XA statements: MySQL logs XA START/END as statements; a standalone XA COMMIT/ROLLBACK completes an earlier prepare.</summary>
    private static EventAction Xa(BinlogTransaction transaction, TransactionPlan plan, string sql)
    {
        var words = sql.Split((char[]?)null, 3, StringSplitOptions.RemoveEmptyEntries);
        var verb = words.Length > 1 ? words[1].ToUpperInvariant() : "";
        if (verb is "COMMIT" or "ROLLBACK" && transaction.Standalone)
        {
            plan.CompletesXid = Xids.Normalize(words.Length > 2 ? words[2] : "");
            return EventAction.Apply;
        }

        if (verb is "START" or "BEGIN")
        {
            plan.StatementOpens = true;
        }

        return EventAction.Frame; // the applier writes XA START/END/PREPARE itself, from the XID
    }

    private static void Record(TransactionPlan plan, BinlogTransaction transaction, bool concerns, string reason, string sql)
    {
        if (concerns)
        {
            plan.Skipped.Add(new SkippedStatement(transaction.GtidText ?? "", transaction.Start, reason, Excerpt(sql)));
        }
    }

    /// <summary>The statement with every string literal replaced by '…', for what may carry a secret.</summary>
    public static string WithoutLiterals(string sql)
    {
        var output = new System.Text.StringBuilder(sql.Length);
        var copied = 0;
        foreach (var token in SqlTokenizer.Scan(sql).Where(t => t.Kind == SqlTokenKind.String))
        {
            output.Append(sql, copied, token.Start - copied).Append("'…'");
            copied = token.Start + token.Length;
        }

        return output.Append(sql, copied, sql.Length - copied).ToString();
    }

    public static string Excerpt(string sql) => sql.Length <= 400 ? sql : sql[..400] + " …";

    public static EcomDrException Refused(string errorId, BinlogTransaction transaction, string why, string sql) =>
        new(errorId, FailureKind.InvalidOperation,
            $"Replay stopped before {transaction.Describe()}: {why}. Statement: {Excerpt(sql)}. Nothing of this transaction was applied. " +
            (transaction.GtidText is { } g ? $"To go past it knowingly, run again with -SkipGtid '{g}'." : "Stop before it with -StopAtPosition, or restore to an earlier point."),
            transaction.GtidText ?? transaction.Start);

    /// <summary>LOG_EVENT_SUPPRESS_USE_F: the statement must not run in its recorded default schema (CREATE/DROP DATABASE).</summary>
    public const ushort SuppressUseFlag = 0x0008;
}
