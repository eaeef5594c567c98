using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// Applies one transaction that replay decided to apply, as the server logged it: its GTID once,
/// then its frame and events. Row events go as BINLOG statements (table maps renamed, a huge
/// statement in self-contained pieces), statements with their recorded session context in their
/// renamed default schema. Three shapes need more than BEGIN … COMMIT:
/// <list type="bullet">
/// <item>a standalone statement (DDL) runs alone under its GTID;</item>
/// <item>MariaDB's CREATE TABLE … SELECT (a DDL that commits implicitly, then the rows, under one GTID):
/// the DDL takes the GTID, and the rows follow in a transaction of their own, kept out of the target's
/// binlog when the GTID is kept, so the GTID is consumed exactly once;</item>
/// <item>an XA transaction's prepare runs in a session of its own, which the server detaches at its
/// end, so the XA COMMIT that follows later can find it.</item>
/// </list>
/// </summary>
internal sealed class TransactionApplier(IReadOnlyDictionary<string, string> map, ReplayOptions options)
{

    /// <summary>Raw event bytes per BINLOG statement at most (base64 adds a third): well under a 16 MiB max_allowed_packet.</summary>
    internal const int MaxBinlogStatementBytes = 4 << 20;

    /// <summary>The user lock a review script holds while an XA transaction is prepared in its own session.</summary>
    private const string XaLock = "ecomdr_xa_session";

    public async Task ApplyAsync(ReplaySession session, BinlogTransaction transaction, TransactionPlan plan, CancellationToken ct)
    {
        if (transaction.PreparedXid is { } xid)
        {
            var side = await session.OpenSideAsync(ct).ConfigureAwait(false);
            var own = side ?? session;
            if (side is null)
            {
                // A script: the client reconnects around the prepare. The server detaches a prepared transaction
                // while it ends the session, before it frees the session's user locks: the next session waits for
                // the lock, and so for the detach, before anything can ask for the XID.
                await session.ReconnectAsync(ct).ConfigureAwait(false);
                await session.ExecuteAsync($"DO GET_LOCK('{XaLock}', 0)", ct).ConfigureAwait(false);
            }

            await own.SetGtidAsync(transaction, ct).ConfigureAwait(false);
            await own.ExecuteAsync($"XA START {xid}", ct).ConfigureAwait(false);
            await EventsAsync(own, transaction, plan, 0, int.MaxValue, ct).ConfigureAwait(false);
            await own.ExecuteAsync($"XA END {xid}; XA PREPARE {xid}", ct).ConfigureAwait(false);
            // The session ends; the server keeps the transaction prepared, for the XA COMMIT that comes later.
            if (side is null)
            {
                await session.ReconnectAsync(ct).ConfigureAwait(false);
                await session.ExecuteAsync($"DO GET_LOCK('{XaLock}', 60), RELEASE_LOCK('{XaLock}')", ct).ConfigureAwait(false);
            }
            else
            {
                await side.CloseAsync().ConfigureAwait(false);
            }

            return;
        }

        // Before the GTID is set: the shadows are temporary tables, which row-based logging does not log.
        foreach (var (_, _, build) in plan.Shadows.Values)
        {
            foreach (var statement in build)
            {
                await session.ExecuteAsync(statement, ct).ConfigureAwait(false);
            }
        }

        if (transaction.Standalone)
        {
            await session.SetGtidAsync(transaction, ct).ConfigureAwait(false);
            await EventsAsync(session, transaction, plan, 0, int.MaxValue, ct).ConfigureAwait(false);
            await session.ResetGtidAsync(transaction, ct).ConfigureAwait(false);
        }
        else if (plan.ImplicitCommitAt is { } ddl)
        {
            // The DDL commits by itself (and takes the GTID); the rows go after it.
            await session.SetGtidAsync(transaction, ct).ConfigureAwait(false);
            await EventsAsync(session, transaction, plan, 0, ddl + 1, ct).ConfigureAwait(false);
            var hide = options.PreserveGtids && !options.NoBinlog && transaction.GtidText is not null;
            if (hide)
            {
                await HideFromBinlogAsync(session, transaction, true, ct).ConfigureAwait(false);
            }

            await session.ExecuteAsync("BEGIN", ct).ConfigureAwait(false);
            await EventsAsync(session, transaction, plan, ddl + 1, int.MaxValue, ct).ConfigureAwait(false);
            await session.ExecuteAsync(transaction.EndsWithRollback ? "ROLLBACK" : "COMMIT", ct).ConfigureAwait(false);
            if (hide)
            {
                await HideFromBinlogAsync(session, transaction, false, ct).ConfigureAwait(false);
            }

            await session.ResetGtidAsync(transaction, ct).ConfigureAwait(false);
        }
        else
        {
            await BodyAsync(session, transaction, plan, ct).ConfigureAwait(false);
            await EndAsync(session, transaction, ct).ConfigureAwait(false);
        }

        foreach (var (source, threadId, _) in plan.Shadows.Values)
        {
            await session.ExecuteAsync(OutsideStructure.Drop(source, threadId), ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A transaction's GTID, its BEGIN (unless its first statement opens it) and its events, up to its
    /// end: parallel replay runs this on any worker, then <see cref="EndAsync"/> in commit order.
    /// </summary>
    public async Task BodyAsync(ReplaySession session, BinlogTransaction transaction, TransactionPlan plan, CancellationToken ct)
    {
        await session.SetGtidAsync(transaction, ct).ConfigureAwait(false);
        if (!plan.StatementOpens)
        {
            await session.DeferAsync("BEGIN", ct).ConfigureAwait(false);
        }

        await EventsAsync(session, transaction, plan, 0, int.MaxValue, ct).ConfigureAwait(false);
    }

    /// <summary>Its COMMIT (or the ROLLBACK it was logged with), and MySQL's gtid_next back to automatic, in one round trip.</summary>
    public static Task EndAsync(ReplaySession session, BinlogTransaction transaction, CancellationToken ct)
    {
        var end = transaction.EndsWithRollback ? "ROLLBACK" : "COMMIT";
        return session.ExecuteAsync(session.ResetsGtid(transaction) ? $"{end}; SET @@session.gtid_next='AUTOMATIC'" : end, ct);
    }

    private static async Task HideFromBinlogAsync(ReplaySession session, BinlogTransaction transaction, bool hide, CancellationToken ct)
    {
        try
        {
            await session.ExecuteAsync($"SET SESSION sql_log_bin = {(hide ? 0 : 1)}", ct).ConfigureAwait(false);
        }
        catch (WireServerException ex) when (hide)
        {
            throw new EcomDrException(ErrorIds.ReplayNeedsBinlogAdmin, FailureKind.PermissionDenied,
                $"Replaying {transaction.Describe()} (a CREATE TABLE … SELECT) with its original GTID needs SUPER or BINLOG ADMIN on the target: its DDL takes the GTID and its rows must then be kept out of the target's binlog ({ex.Message}). " +
                "Grant the privilege, or replay into a side schema (new GTIDs), or use -NoBinlog. The DDL was applied; the target is incomplete.",
                transaction.GtidText, ex);
        }
    }

    /// <summary>Applies the events numbered [from, to) that the plan applies.</summary>
    private async Task EventsAsync(ReplaySession session, BinlogTransaction transaction, TransactionPlan plan, int from, int to, CancellationToken ct)
    {
        var statement = new List<ReadOnlyMemory<byte>>();
        var tableMaps = new List<ReadOnlyMemory<byte>>();
        var context = new List<string>();
        var pending = 0;
        var index = -1;
        var formatSent = false;
        await foreach (var item in transaction.Events.ReadAsync(ct).ConfigureAwait(false))
        {
            index++;
            if (index < from)
            {
                continue;
            }

            if (index >= to)
            {
                break;
            }

            var e = WithChecksum(item.Event, item.Format);
            var action = plan.Actions[index];
            if (action == EventAction.Context)
            {
                context.Add(ContextStatement(e));
                continue;
            }

            if (e.Type == BinlogEventType.Query && action == EventAction.Apply)
            {
                // CREATE TABLE … LIKE a table outside: LIKE the shadow of it, in EcomDr's schema.
                var names = plan.Shadows.TryGetValue(index, out var shadow)
                    ? new Dictionary<string, string>(map) { [shadow.Source.Schema] = OutsideStructure.ShadowSchema }
                    : map;
                await StatementAsync(session, item, context, names, ct).ConfigureAwait(false);
                context.Clear();
                continue;
            }

            if (e.Type == BinlogEventType.TableMap && action == EventAction.Apply)
            {
                var renamed = RenameTableMap(e, item.Format, map);
                statement.Add(renamed);
                tableMaps.Add(renamed);
                continue;
            }

            if (!BinlogDecoders.IsRows(e.Type))
            {
                continue;
            }

            var endsStatement = (BinlogDecoders.Rows(e, item.Format).Flags & BinlogDecoders.RowsEndOfStatement) != 0;
            if (action == EventAction.Skip)
            {
                // A statement that also changed another schema's table (a multi-table UPDATE) ends with what was kept.
                if (endsStatement)
                {
                    if (pending > 0)
                    {
                        statement[^1] = WithEndOfStatement(statement[^1], item.Format);
                        await SendAsync(statement).ConfigureAwait(false);
                    }

                    statement.Clear();
                    tableMaps.Clear();
                    pending = 0;
                }

                continue;
            }

            statement.Add(e.Raw);
            pending += e.Raw.Length;
            if (endsStatement)
            {
                await SendAsync(statement).ConfigureAwait(false);
                statement.Clear();
                tableMaps.Clear();
                pending = 0;
            }
            else if (pending >= MaxBinlogStatementBytes)
            {
                // A huge statement goes in pieces so none nears max_allowed_packet. The server forgets
                // table maps at the end of each BINLOG statement, so each piece is a statement of its
                // own: the table maps again, its rows, the last marked as the end of a statement.
                statement[^1] = WithEndOfStatement(statement[^1], item.Format);
                await SendAsync(statement).ConfigureAwait(false);
                statement.Clear();
                statement.AddRange(tableMaps);
                pending = 0;
            }
        }

        async Task SendAsync(List<ReadOnlyMemory<byte>> events)
        {
            if (!formatSent)
            {
                await session.FormatAsync(transaction.FormatDescription, ct).ConfigureAwait(false);
                formatSent = true;
            }

            await session.BinlogAsync(events, ct).ConfigureAwait(false);
        }
    }

    /// <summary>A statement with its recorded session context, in its renamed default schema; the context events before it first.</summary>
    private static async Task StatementAsync(ReplaySession session, ArchivedEvent item, List<string> context, IReadOnlyDictionary<string, string> map, CancellationToken ct)
    {
        var e = item.Event;
        var query = BinlogDecoders.Query(e);
        var (ansi, noBackslash) = QueryContext.Lexing(query.StatusVariables.Span);
        var suppressUse = (e.Header.Flags & ReplayScope.SuppressUseFlag) != 0;
        var schema = query.Schema.Length > 0 && map.TryGetValue(query.Schema, out var mapped) ? mapped : query.Schema;
        var setContext = QueryContext.SetStatement(query.StatusVariables.Span, e.Header.Timestamp, query.ThreadId);
        // The context and the default schema in one round trip (the connection allows several statements per query).
        var prefix = string.Join("; ", context.Append(setContext));
        await session.ExecuteAsync(schema.Length > 0 && !suppressUse ? $"{prefix}; USE {Identifiers.Quote(schema)}" : prefix, ct).ConfigureAwait(false);
        await session.ExecuteAsync(SchemaRenamer.Rename(query.Sql, map, ansi, noBackslash), ct).ConfigureAwait(false);
    }

    private static string ContextStatement(BinlogEvent e)
    {
        var body = e.Body.Span;
        switch (e.Type)
        {
            case BinlogEventType.IntVar:
                return $"SET {(body[0] == 1 ? "LAST_INSERT_ID" : "INSERT_ID")}={BinaryPrimitives.ReadUInt64LittleEndian(body[1..])}";
            case BinlogEventType.Rand:
                return $"SET @@RAND_SEED1={BinaryPrimitives.ReadUInt64LittleEndian(body)}, @@RAND_SEED2={BinaryPrimitives.ReadUInt64LittleEndian(body[8..])}";
            default:
                // Statement-based logging: the user variable the next statement reads, set again in this session.
                var (name, literal) = BinlogDecoders.UserVar(e);
                return $"SET @{Identifiers.Quote(name)} := {literal}";
        }
    }

    /// <summary>
    /// The event as a BINLOG statement takes it: with its CRC32 when the format has checksums. Events
    /// from inside a MySQL TRANSACTION_PAYLOAD carry none, so one is added (and the size updated).
    /// </summary>
    internal static BinlogEvent WithChecksum(BinlogEvent e, BinlogFormat format)
    {
        if (!format.Checksums || e.Raw.Length > BinlogEventHeader.Size + e.Body.Length)
        {
            return e;
        }

        var raw = new byte[e.Raw.Length + BinlogFormat.ChecksumSize];
        e.Raw.Span.CopyTo(raw);
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(9), (uint)raw.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(e.Raw.Length), Crc32.HashToUInt32(raw.AsSpan(0, e.Raw.Length)));
        return e with { Header = BinlogEventHeader.Parse(raw), Raw = raw, Body = raw.AsMemory(BinlogEventHeader.Size, e.Body.Length) };
    }

    /// <summary>A copy of a rows event with STMT_END_F set (and its CRC32 recomputed).</summary>
    internal static byte[] WithEndOfStatement(ReadOnlyMemory<byte> rows, BinlogFormat format)
    {
        var copy = rows.ToArray();
        var idSize = format.PostHeaderLength((BinlogEventType)copy[4], 8) == 6 ? 4 : 6;
        var flagsAt = BinlogEventHeader.Size + idSize;
        BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(flagsAt), (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(copy.AsSpan(flagsAt)) | BinlogDecoders.RowsEndOfStatement));
        if (format.Checksums)
        {
            var end = copy.Length - BinlogFormat.ChecksumSize;
            BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(end), Crc32.HashToUInt32(copy.AsSpan(0, end)));
        }

        return copy;
    }

    /// <summary>A TABLE_MAP event with its schema renamed: new length, name, event size and CRC32.</summary>
    internal static byte[] RenameTableMap(BinlogEvent e, BinlogFormat format, IReadOnlyDictionary<string, string> map)
    {
        var raw = e.Raw.Span;
        var info = BinlogDecoders.TableMap(e, format);
        if (!map.TryGetValue(info.Schema, out var renamed) || renamed == info.Schema)
        {
            return raw.ToArray();
        }

        var idSize = format.PostHeaderLength(BinlogEventType.TableMap, 8) == 6 ? 4 : 6;
        var nameAt = BinlogEventHeader.Size + idSize + 2; // schema length byte
        var oldLength = raw[nameAt];
        var newName = Encoding.UTF8.GetBytes(renamed);
        var checksum = format.Checksums ? BinlogFormat.ChecksumSize : 0;
        var result = new byte[raw.Length - oldLength + newName.Length];
        raw[..nameAt].CopyTo(result);
        result[nameAt] = (byte)newName.Length;
        newName.CopyTo(result, nameAt + 1);
        raw[(nameAt + 1 + oldLength)..].CopyTo(result.AsSpan(nameAt + 1 + newName.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(9), (uint)result.Length);
        if (checksum > 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(result.Length - checksum), Crc32.HashToUInt32(result.AsSpan(0, result.Length - checksum)));
        }

        return result;
    }
}
