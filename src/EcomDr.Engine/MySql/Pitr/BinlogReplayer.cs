using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics;
using System.IO.Hashing;
using System.Text;
using EcomDr.Engine.Errors;
using EcomDr.Engine.MySql.Binlog;
using EcomDr.Engine.MySql.Dump;
using EcomDr.Engine.MySql.Wire;

namespace EcomDr.Engine.MySql.Pitr;

/// <summary>
/// Applies archived binlog events to a server, transaction by transaction, as the stock binlog tool's
/// output would: row events as BINLOG statements (the format description first), query events with
/// their recorded session context, original GTIDs kept when asked. Schemas are renamed in table maps
/// and in statements. A transaction is applied whole or not at all: the target time is checked
/// against its commit event, and a transaction that commits later is rolled back and replay stops.
/// </summary>
public static class BinlogReplayer
{
    public const string ReplayFailedErrorId = "EcomDr.ReplayFailed";

    /// <summary>Raw event bytes per BINLOG statement at most (base64 adds a third): well under a 16 MiB max_allowed_packet.</summary>
    internal const int MaxBinlogStatementBytes = 4 << 20;

    public static async Task<ReplayResult> ReplayAsync(MySqlEndpoint endpoint, IAsyncEnumerable<ArchivedEvent> events, ReplayOptions options,
        IProgress<ReplayProgress>? progress, CancellationToken ct)
    {
        // Several statements per query save round trips (the GTID and BEGIN, a statement's context and schema).
        await using var connection = await WireConnection.OpenAsync(endpoint, ct, multiStatements: true).ConfigureAwait(false);
        return await ReplayAsync(new ServerSink(connection), events, options, progress, ct).ConfigureAwait(false);
    }

    /// <summary>Replays into any sink: a server, or a script written for review instead of run.</summary>
    public static async Task<ReplayResult> ReplayAsync(IReplaySink target, IAsyncEnumerable<ArchivedEvent> events, ReplayOptions options,
        IProgress<ReplayProgress>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var map = options.SchemaMap ?? new Dictionary<string, string>();
        // With a schema map only its schemas are replayed: other databases on the source (and EcomDr's own
        // restore records) are not the restore's business, and on the live server they must not be applied twice.
        var replayed = map.Count > 0 ? map.Keys.ToHashSet(StringComparer.Ordinal) : null;
        var skippedTables = new HashSet<ulong>();
        var state = new State();
        await target.ExecuteAsync("SET SESSION sql_mode = '', foreign_key_checks = 1", ct).ConfigureAwait(false);
        if (options.NoBinlog)
        {
            await target.ExecuteAsync("SET SESSION sql_log_bin = 0", ct).ConfigureAwait(false);
        }

        byte[]? fdeSent = null;
        var statement = new List<ReadOnlyMemory<byte>>();
        var tableMaps = new List<ReadOnlyMemory<byte>>();
        var pendingBytes = 0;
        string? pendingGtid = null;
        (uint Domain, uint Server, ulong Sequence)? pendingMaria = null;
        string stopped = "end of the shipped binlog";
        try
        {
            await foreach (var item in Prefetch(events, ct).ConfigureAwait(false))
            {
                var e = item.Event;
                state.Events++;
                state.File = item.File;
                switch (e.Type)
                {
                    case BinlogEventType.FormatDescription:
                        if (fdeSent is null || !fdeSent.AsSpan().SequenceEqual(e.Raw.Span))
                        {
                            fdeSent = e.Raw.ToArray();
                            await SendBinlogAsync(target, new ReadOnlyMemory<byte>[] { fdeSent }, ct).ConfigureAwait(false);
                        }

                        continue;
                    case BinlogEventType.MariaGtid:
                    case BinlogEventType.Gtid:
                    {
                        var gtid = BinlogDecoders.Gtid(e);
                        if (options.StopBeforeGtid is { } stopGtid && gtid.Text == stopGtid)
                        {
                            stopped = $"before GTID {gtid.Text}";
                            return state.Result(stopped, clock.Elapsed);
                        }

                        if (options.StopAtPosition is { } at && IsAtOrAfter(item.File, e.Position, at))
                        {
                            stopped = $"at {at.File}:{at.Position}";
                            return state.Result(stopped, clock.Elapsed);
                        }

                        pendingGtid = gtid.Text;
                        pendingMaria = e.Type == BinlogEventType.MariaGtid ? (gtid.Domain, e.Header.ServerId, gtid.Sequence) : null;
                        var begin = e.Type == BinlogEventType.MariaGtid && !gtid.Standalone;
                        var setGtid = !options.PreserveGtids ? null : pendingMaria is { } m
                            // Three statements, not one SET of three: MariaDB checks gtid_seq_no against the
                            // domain in force before that same statement, and refuses it under gtid_strict_mode.
                            ? $"SET @@session.gtid_domain_id={m.Domain}; SET @@session.server_id={m.Server}; SET @@session.gtid_seq_no={m.Sequence}"
                            : $"SET @@session.gtid_next='{gtid.Text}'";
                        // One round trip for both (the connection allows several statements per query).
                        var sql = string.Join("; ", new[] { setGtid, begin ? "BEGIN" : null }.Where(x => x is not null));
                        if (sql.Length > 0)
                        {
                            await target.ExecuteAsync(sql, ct).ConfigureAwait(false);
                        }

                        state.InTransaction |= begin;
                        state.Changed = false;
                        continue;
                    }

                    case BinlogEventType.Query:
                    {
                        var query = BinlogDecoders.Query(e);
                        if (query.Sql == "BEGIN")
                        {
                            await target.ExecuteAsync("BEGIN", ct).ConfigureAwait(false);
                            state.InTransaction = true;
                            state.Changed = false;
                            continue;
                        }

                        if (!state.InTransaction && PastTarget(e, options))
                        {
                            stopped = $"target time {options.TargetTime:O} reached";
                            return state.Result(stopped, clock.Elapsed);
                        }

                        if (query.Sql == "COMMIT")
                        {
                            if (await CommitOrStopAsync(target, e, options, state, pendingGtid, pendingMaria is not null, item.File, ct).ConfigureAwait(false))
                            {
                                stopped = $"target time {options.TargetTime:O} reached";
                                return state.Result(stopped, clock.Elapsed);
                            }

                            continue;
                        }

                        if (replayed is not null && !replayed.Contains(query.Schema) && !SchemaRenamer.Named(query.Sql).Overlaps(replayed))
                        {
                            if (!state.InTransaction && options.PreserveGtids && pendingMaria is null && pendingGtid is not null)
                            {
                                // MySQL: the GTID set for this statement must be consumed; an empty transaction records it.
                                await target.ExecuteAsync("BEGIN; COMMIT", ct).ConfigureAwait(false);
                                state.Applied(pendingGtid, item.File, e);
                                await AfterTransactionAsync(target, options, true, ct).ConfigureAwait(false);
                            }

                            continue;
                        }

                        var schema = query.Schema.Length > 0 && map.TryGetValue(query.Schema, out var mapped) ? mapped : query.Schema;
                        // The context and the default schema in one round trip; CREATE DATABASE records the new
                        // database as its default one, which does not exist yet.
                        var context = QueryContext.SetStatement(query.StatusVariables.Span, e.Header.Timestamp, query.ThreadId);
                        await target.ExecuteAsync(schema.Length > 0 && !CreatesDatabase(query.Sql) ? $"{context}; USE {TableInfo.Quote(schema)}" : context, ct).ConfigureAwait(false);

                        await target.ExecuteAsync(DdlRewriter.RenameSchemas(query.Sql, map), ct).ConfigureAwait(false);
                        state.Changed = true;
                        if (!state.InTransaction)
                        {
                            state.Applied(pendingGtid, item.File, e);
                            await AfterTransactionAsync(target, options, pendingMaria is null && pendingGtid is not null, ct).ConfigureAwait(false);
                        }

                        continue;
                    }

                    case BinlogEventType.TableMap:
                        var mapInfo = BinlogDecoders.TableMap(e, item.Format);
                        if (replayed is not null && !replayed.Contains(mapInfo.Schema))
                        {
                            skippedTables.Add(mapInfo.TableId);
                            continue;
                        }

                        skippedTables.Remove(mapInfo.TableId);
                        var tableMap = RenameTableMap(e, item.Format, map);
                        statement.Add(tableMap);
                        tableMaps.Add(tableMap);
                        continue;
                    case BinlogEventType.Xid:
                        if (await CommitOrStopAsync(target, e, options, state, pendingGtid, pendingMaria is not null, item.File, ct).ConfigureAwait(false))
                        {
                            stopped = $"target time {options.TargetTime:O} reached";
                            return state.Result(stopped, clock.Elapsed);
                        }

                        await AfterTransactionAsync(target, options, pendingMaria is null && pendingGtid is not null, ct).ConfigureAwait(false);
                        continue;
                    case BinlogEventType.IntVar:
                    {
                        var body = e.Body.Span;
                        var name = body[0] == 1 ? "LAST_INSERT_ID" : "INSERT_ID";
                        await target.ExecuteAsync($"SET {name}={BinaryPrimitives.ReadUInt64LittleEndian(body[1..])}", ct).ConfigureAwait(false);
                        continue;
                    }

                    case BinlogEventType.Rand:
                    {
                        var body = e.Body.Span;
                        await target.ExecuteAsync($"SET @@RAND_SEED1={BinaryPrimitives.ReadUInt64LittleEndian(body)}, @@RAND_SEED2={BinaryPrimitives.ReadUInt64LittleEndian(body[8..])}", ct).ConfigureAwait(false);
                        continue;
                    }

                    case BinlogEventType.UserVar:
                    {
                        // Statement-based logging: the variable the next statement reads, set again in this session.
                        var (name, literal) = BinlogDecoders.UserVar(e);
                        await target.ExecuteAsync($"SET @{TableInfo.Quote(name)} := {literal}", ct).ConfigureAwait(false);
                        continue;
                    }
                }

                if (BinlogDecoders.IsRows(e.Type) && skippedTables.Count > 0 && skippedTables.Contains(BinlogDecoders.Rows(e, item.Format).TableId))
                {
                    // A statement that also changed a replayed table (a multi-table UPDATE) ends with what was kept.
                    if ((BinlogDecoders.Rows(e, item.Format).Flags & BinlogDecoders.RowsEndOfStatement) != 0)
                    {
                        if (pendingBytes > 0)
                        {
                            statement[^1] = WithEndOfStatement(statement[^1], item.Format);
                            await SendBinlogAsync(target, statement, ct).ConfigureAwait(false);
                        }

                        statement.Clear();
                        tableMaps.Clear();
                        pendingBytes = 0;
                    }
                }
                else if (BinlogDecoders.IsRows(e.Type))
                {
                    statement.Add(e.Raw);
                    pendingBytes += e.Raw.Length;
                    state.Changed = true;
                    if ((BinlogDecoders.Rows(e, item.Format).Flags & BinlogDecoders.RowsEndOfStatement) != 0)
                    {
                        await SendBinlogAsync(target, statement, ct).ConfigureAwait(false);
                        statement.Clear();
                        tableMaps.Clear();
                        pendingBytes = 0;
                    }
                    else if (pendingBytes >= MaxBinlogStatementBytes)
                    {
                        // A huge statement goes in pieces so none nears max_allowed_packet. The server forgets
                        // table maps at the end of each BINLOG statement, so each piece is a statement of its
                        // own: the table maps again, its rows, the last marked as the end of a statement.
                        statement[^1] = WithEndOfStatement(statement[^1], item.Format);
                        await SendBinlogAsync(target, statement, ct).ConfigureAwait(false);
                        statement.Clear();
                        statement.AddRange(tableMaps);
                        pendingBytes = 0;
                    }
                }

                progress?.Report(new ReplayProgress(state.Transactions, state.Events, item.File, e.EndPosition, e.Header.Timestamp == 0 ? null : e.Header.Time));
            }
        }
        catch (WireServerException ex)
        {
            await RollbackQuietlyAsync(target, state).ConfigureAwait(false);
            throw new EcomDrException(ReplayFailedErrorId, FailureKind.InvalidOperation,
                $"Replay failed in {state.File} at GTID {pendingGtid ?? "(none)"}: {ex.Message}. Applied {state.Transactions} transaction(s), the last {state.LastGtid} ending at {state.LastFile}:{state.LastPosition}; the target is incomplete.",
                pendingGtid ?? state.File, ex);
        }
        catch
        {
            await RollbackQuietlyAsync(target, state).ConfigureAwait(false);
            throw;
        }

        await RollbackQuietlyAsync(target, state).ConfigureAwait(false); // a transaction cut off by the end of the shipped binlog
        return state.Result(stopped, clock.Elapsed);
    }

    /// <summary>
    /// Reads (decrypts, decompresses, verifies) the next events while the server applies the current
    /// ones: a bounded queue, so memory stays flat.
    /// </summary>
    private static async IAsyncEnumerable<ArchivedEvent> Prefetch(IAsyncEnumerable<ArchivedEvent> source,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var queue = System.Threading.Channels.Channel.CreateBounded<ArchivedEvent>(new System.Threading.Channels.BoundedChannelOptions(512) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var item in source.WithCancellation(stop.Token).ConfigureAwait(false))
                {
                    await queue.Writer.WriteAsync(item, stop.Token).ConfigureAwait(false);
                }

                queue.Writer.Complete();
            }
            catch (Exception ex)
            {
                queue.Writer.Complete(ex);
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var item in queue.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                yield return item;
            }
        }
        finally
        {
            // Stopping early (a target reached) ends the reader too.
            stop.Cancel();
            try
            {
                await reader.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>Whether file:position is at or beyond a stop position, later files included (names compared by their number).</summary>
    internal static bool IsAtOrAfter(string file, long position, (string File, long Position) stop)
    {
        var byFile = CompareFiles(file, stop.File);
        return byFile > 0 || (byFile == 0 && position >= stop.Position);
    }

    private static int CompareFiles(string a, string b)
    {
        static long Number(string f) => long.TryParse(f[(f.LastIndexOf('.') + 1)..], out var n) ? n : -1;
        var (na, nb) = (Number(a), Number(b));
        return na >= 0 && nb >= 0 ? na.CompareTo(nb) : string.CompareOrdinal(a, b);
    }

    private static bool CreatesDatabase(string sql) =>
        System.Text.RegularExpressions.Regex.IsMatch(sql, @"^\s*(/\*.*?\*/\s*)*CREATE\s+(DATABASE|SCHEMA)\b", System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.Singleline);

    private static bool PastTarget(BinlogEvent e, ReplayOptions options) =>
        options.TargetTime is { } t && e.Header.Timestamp != 0 && e.Header.Time > t;

    /// <summary>Commits at an XID/COMMIT unless it committed after the target time: then rolls back; true means stop.</summary>
    private static async Task<bool> CommitOrStopAsync(IReplaySink target, BinlogEvent commit, ReplayOptions options, State state, string? gtid, bool mariaDbGtid,
        string file, CancellationToken ct)
    {
        if (PastTarget(commit, options))
        {
            await target.ExecuteAsync("ROLLBACK", ct).ConfigureAwait(false);
            state.InTransaction = false;
            return true;
        }

        if (!state.Changed && mariaDbGtid)
        {
            // Everything in it belonged to other schemas. MariaDB would log an empty commit under the
            // target's own domain with the original sequence number; there is nothing to keep.
            await target.ExecuteAsync("ROLLBACK", ct).ConfigureAwait(false);
            state.InTransaction = false;
            return false;
        }

        await target.ExecuteAsync("COMMIT", ct).ConfigureAwait(false);
        state.InTransaction = false;
        state.Applied(gtid, file, commit);
        return false;
    }

    private static async Task AfterTransactionAsync(IReplaySink target, ReplayOptions options, bool mySqlGtid, CancellationToken ct)
    {
        if (options.PreserveGtids && mySqlGtid)
        {
            await target.ExecuteAsync("SET @@session.gtid_next='AUTOMATIC'", ct).ConfigureAwait(false);
        }
    }

    private static async Task RollbackQuietlyAsync(IReplaySink target, State state)
    {
        if (!state.InTransaction)
        {
            return;
        }

        try
        {
            await target.ExecuteAsync("ROLLBACK", CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WireServerException or IOException or InvalidOperationException)
        {
            // the connection is gone: the server rolls back itself
        }
    }

    /// <summary>
    /// Sends events as one BINLOG statement (base64 of their raw bytes), as the stock binlog tool prints
    /// them; encoded straight to UTF-8 in a pooled buffer, no strings.
    /// </summary>
    private static async Task SendBinlogAsync(IReplaySink target, IReadOnlyList<ReadOnlyMemory<byte>> raw, CancellationToken ct)
    {
        var total = raw.Sum(r => r.Length);
        var encoded = (total + 2) / 3 * 4;
        var joined = ArrayPool<byte>.Shared.Rent(total);
        var sql = ArrayPool<byte>.Shared.Rent(encoded + 16);
        try
        {
            var at = 0;
            foreach (var part in raw)
            {
                part.Span.CopyTo(joined.AsSpan(at));
                at += part.Length;
            }

            "BINLOG '"u8.CopyTo(sql);
            Base64.EncodeToUtf8(joined.AsSpan(0, total), sql.AsSpan(8), out _, out var written);
            sql[8 + written] = (byte)'\'';
            await target.ExecuteAsync(sql.AsMemory(0, 9 + written), ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(joined);
            ArrayPool<byte>.Shared.Return(sql);
        }
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

    private sealed class State
    {
        public long Transactions;
        public long Events;
        public bool InTransaction;
        public bool Changed; // whether the open transaction applied anything (not all of it filtered out)
        public string File = "";
        public string LastGtid = "";
        public string LastFile = "";
        public long LastPosition;
        public DateTimeOffset? LastCommitTime;

        public void Applied(string? gtid, string file, BinlogEvent end)
        {
            Transactions++;
            LastGtid = gtid ?? LastGtid;
            LastFile = file;
            LastPosition = end.EndPosition;
            LastCommitTime = end.Header.Time;
        }

        public ReplayResult Result(string why, TimeSpan elapsed) =>
            new(Transactions, Events, LastGtid, LastFile, LastPosition, LastCommitTime, why, elapsed);
    }
}
