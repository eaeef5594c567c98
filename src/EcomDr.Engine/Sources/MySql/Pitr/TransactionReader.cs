using System.Runtime.CompilerServices;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// Groups archived events into whole transactions (<see cref="BinlogTransaction"/>), as the server
/// wrote them: a GTID event (or a BEGIN, without GTIDs) opens one; an XID, COMMIT, ROLLBACK or
/// XA_PREPARE ends it, or its one statement when it is standalone (MariaDB's FL_STANDALONE, MySQL's
/// DDL after a GTID). MySQL's compressed TRANSACTION_PAYLOAD events are opened and their events read
/// in place. Events between transactions (rotation, GTID lists, checkpoints) carry nothing to replay.
/// Events no replay can apply (an encrypted binlog, an incident) stop it with a clear error.
/// </summary>
internal static class TransactionReader
{

    public static async IAsyncEnumerable<BinlogTransaction> ReadAsync(IAsyncEnumerable<ArchivedEvent> events, long memoryLimit,
        [EnumeratorCancellation] CancellationToken ct)
    {
        BinlogTransaction? open = null;
        ReadOnlyMemory<byte> fde = default;
        await foreach (var item in events.WithCancellation(ct).ConfigureAwait(false))
        {
            var e = item.Event;
            switch (e.Type)
            {
                case BinlogEventType.FormatDescription:
                    if (open is not null)
                    {
                        open.End = TransactionEnd.Abandoned;
                        yield return open;
                        open = null;
                    }

                    fde = e.Raw;
                    continue;
                case BinlogEventType.Rotate or BinlogEventType.PreviousGtids or BinlogEventType.MariaGtidList or BinlogEventType.MariaBinlogCheckpoint
                    or BinlogEventType.Stop or BinlogEventType.Heartbeat or BinlogEventType.HeartbeatV2:
                    continue;
                case BinlogEventType.MariaStartEncryption:
                    throw Unsupported(item, "the binlog is encrypted from here on (encrypt_binlog); EcomDr reads unencrypted binlogs only");
                case BinlogEventType.GtidTagged:
                    // Not read: replay may still stop before it (by position or time), else it refuses to go on.
                    if (open is not null)
                    {
                        open.End = TransactionEnd.Abandoned;
                        yield return open;
                    }

                    yield return new BinlogTransaction(item.File, e.Position, null, false, fde, 0)
                    {
                        End = TransactionEnd.Unreadable,
                        EndPosition = e.EndPosition,
                        CommitTime = e.Header.Timestamp == 0 ? null : e.Header.Time,
                        Unreadable = Unsupported(item, "it holds a tagged GTID (GTID_TAGGED_LOG_EVENT, MySQL 8.3+), whose layout EcomDr does not read yet; stop before it with -StopAtPosition or -TargetTime"),
                    };
                    open = null;
                    continue;
                case BinlogEventType.Incident:
                    throw Unsupported(item, "the source recorded an INCIDENT here: events were lost on the source, so nothing after this point is a faithful record");
                case BinlogEventType.MariaGtid or BinlogEventType.Gtid or BinlogEventType.AnonymousGtid:
                    if (open is not null)
                    {
                        open.End = TransactionEnd.Abandoned;
                        yield return open;
                    }

                    var gtid = BinlogDecoders.Gtid(e);
                    open = new BinlogTransaction(item.File, e.Position, gtid, e.Type == BinlogEventType.MariaGtid, fde, memoryLimit);
                    open.EndPosition = e.EndPosition;
                    // MariaDB's GTID event is the BEGIN (or the XA START) of every group that is not standalone.
                    open.Opened = e.Type == BinlogEventType.MariaGtid && !gtid.Standalone && !gtid.CompletesXa;

                    continue;
            }

            var inner = e.Type == BinlogEventType.TransactionPayload ? BinlogDecoders.TransactionPayload(e) : new[] { e };
            foreach (var part in inner)
            {
                var piece = ReferenceEquals(part, e) ? item : item with { Event = part };
                open ??= new BinlogTransaction(item.File, e.Position, null, item.Format.IsMariaDb, fde, memoryLimit);
                await open.Events.AddAsync(piece, ct).ConfigureAwait(false);
                open.EndFile = item.File;
                open.EndPosition = e.EndPosition;
                if (Ends(open, part))
                {
                    open.End = TransactionEnd.Committed;
                    open.ShippedBy = item.ShippedBy;
                    if (open.CommitTime is null)
                    {
                        (open.CommitTime, open.CommitPrecision) = CommitTimeOf(part);
                    }

                    yield return open;
                    open = null;
                }
            }
        }

        if (open is not null)
        {
            yield return open; // cut off by the end of what was shipped
        }
    }

    /// <summary>Whether <paramref name="e"/> is the last event of the open transaction.</summary>
    private static bool Ends(BinlogTransaction open, BinlogEvent e)
    {
        switch (e.Type)
        {
            case BinlogEventType.Xid:
                return true;
            case BinlogEventType.XaPrepare:
                open.PreparedXid = BinlogDecoders.XaPrepare(e).Xid;
                return true;
            case BinlogEventType.Query:
                var sql = BinlogDecoders.Query(e).Sql;
                if (open.Opened)
                {
                    open.EndsWithRollback = sql == "ROLLBACK";
                    return sql is "COMMIT" or "ROLLBACK";
                }

                if (sql is "BEGIN" || sql.StartsWith("XA START", StringComparison.OrdinalIgnoreCase) || sql.StartsWith("XA BEGIN", StringComparison.OrdinalIgnoreCase)
                    || Statements.StatementAnalyzer.Analyze(sql, "").StartsTransaction)
                {
                    open.Opened = true;
                    return false;
                }

                open.Standalone = true;
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// The time the committing event records: its statement's start, with microseconds when the event
    /// records them. A QUERY event's exec_time is not a duration to add: under SET timestamp (a replica
    /// applying its source's events, a session that sets its own time) it is the distance to that time.
    /// </summary>
    private static (DateTimeOffset?, CommitPrecision) CommitTimeOf(BinlogEvent e)
    {
        if (e.Header.Timestamp == 0)
        {
            return (null, CommitPrecision.Second);
        }

        var time = e.Header.Time;
        if (e.Type != BinlogEventType.Query)
        {
            return (time, CommitPrecision.Second);
        }

        return QueryContext.Microseconds(BinlogDecoders.Query(e).StatusVariables.Span) is { } micros
            ? (time.AddTicks(micros * 10L), CommitPrecision.Microsecond)
            : (time, CommitPrecision.Second);
    }

    private static EcomDrException Unsupported(ArchivedEvent item, string why) =>
        new(ErrorIds.ReplayUnsupportedEvent, FailureKind.InvalidData, $"Replay cannot go past {item.File}:{item.Event.Position}: {why}.", $"{item.File}:{item.Event.Position}");
}
