using System.Buffers.Binary;
using System.Text;
using EcomDr.Engine.Pipeline.Compression;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>ROTATE: the next file and the position to continue from.</summary>
public sealed record RotateInfo(string NextFile, long Position);

/// <summary>QUERY: the statement, its default schema and the raw status variables (session context).</summary>
public sealed record QueryInfo(uint ThreadId, uint ExecSeconds, ushort ErrorCode, string Schema, string Sql, ReadOnlyMemory<byte> StatusVariables);

/// <summary>TABLE_MAP: which table a table id names in the row events that follow, with its column types and their metadata.</summary>
public sealed record TableMapInfo(ulong TableId, string Schema, string Table, int ColumnCount, ReadOnlyMemory<byte> ColumnTypes, ReadOnlyMemory<byte> ColumnMetadata = default);

/// <summary>
/// A transaction's GTID. MySQL: server UUID and number, with the logical clock (last_committed,
/// sequence_number) for parallel apply and the commit time on the server that wrote it
/// (immediate_commit_timestamp, MySQL 8.0.1+). MariaDB: domain-server-sequence, its flags (standalone
/// DDL, XA prepare or completion) and, for XA, the transaction's XID as the SQL literal that names it.
/// </summary>
public sealed record GtidInfo(string Text, bool Anonymous, long LastCommitted = 0, long SequenceNumber = 0, uint Domain = 0, ulong Sequence = 0, bool Standalone = false,
    byte Flags = 0, string? Xid = null, DateTimeOffset? CommitTime = null, uint ServerId = 0, ulong? CommitId = null)
{
    public const byte MariaStandalone = 0x01;
    public const byte MariaGroupCommitId = 0x02;
    public const byte MariaDdl = 0x20;
    public const byte MariaPreparedXa = 0x40;
    public const byte MariaCompletedXa = 0x80;

    public bool PreparesXa => (Flags & MariaPreparedXa) != 0;

    public bool CompletesXa => (Flags & MariaCompletedXa) != 0;
}

/// <summary>One MariaDB GTID_LIST entry: the last GTID of a domain/server before this file.</summary>
public sealed record GtidListEntry(uint Domain, uint ServerId, ulong Sequence)
{
    public override string ToString() => $"{Domain}-{ServerId}-{Sequence}";
}

/// <summary>Decodes the bodies of the events EcomDr acts on (layouts: the MySQL and MariaDB binlog event pages).</summary>
public static class BinlogDecoders
{
    public const byte RowsEndOfStatement = 1;

    public static RotateInfo Rotate(BinlogEvent e)
    {
        var body = e.Body.Span;
        return new RotateInfo(Encoding.UTF8.GetString(body[8..]), (long)BinaryPrimitives.ReadUInt64LittleEndian(body));
    }

    public static QueryInfo Query(BinlogEvent e)
    {
        var body = e.Body.Span;
        var schemaLength = body[8];
        var statusLength = BinaryPrimitives.ReadUInt16LittleEndian(body[11..]);
        var postHeader = 13;
        var status = e.Body.Slice(postHeader, statusLength);
        var schemaAt = postHeader + statusLength;
        var schema = Encoding.UTF8.GetString(body.Slice(schemaAt, schemaLength));
        var sql = Encoding.UTF8.GetString(body[(schemaAt + schemaLength + 1)..]);
        return new QueryInfo(BinaryPrimitives.ReadUInt32LittleEndian(body), BinaryPrimitives.ReadUInt32LittleEndian(body[4..]),
            BinaryPrimitives.ReadUInt16LittleEndian(body[9..]), schema, sql, status);
    }

    /// <summary>
    /// USER_VAR (statement-based logging): the variable a following statement reads, as the SQL
    /// literal that sets it again. Unknown value types and character sets are refused.
    /// </summary>
    public static (string Name, string Literal) UserVar(BinlogEvent e)
    {
        var r = new WireReader(e.Body.Span);
        var name = Encoding.UTF8.GetString(r.Bytes((int)r.UInt32()));
        if (r.Byte() != 0)
        {
            return (name, "NULL");
        }

        var type = r.Byte();
        var collation = r.UInt32();
        var value = r.Bytes((int)r.UInt32());
        var unsigned = !r.AtEnd && (r.Byte() & 1) != 0;
        return (name, type switch
        {
            0 => $"_{CharsetOf(collation)} X'{Convert.ToHexString(value)}'",
            1 => BinaryPrimitives.ReadDoubleLittleEndian(value).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            2 => unsigned ? BinaryPrimitives.ReadUInt64LittleEndian(value).ToString(System.Globalization.CultureInfo.InvariantCulture)
                : BinaryPrimitives.ReadInt64LittleEndian(value).ToString(System.Globalization.CultureInfo.InvariantCulture),
            4 => DecimalBinary.ToText(value[2..], value[0], value[1]),
            _ => throw new InvalidDataException($"USER_VAR @{name} at {e.Position}: values of type {type} are not replayed; use binlog_format=ROW."),
        });
    }

    /// <summary>The character set of the collations statement-based events name most (by collation id).</summary>
    private static string CharsetOf(uint collation) => collation switch
    {
        8 or 47 => "latin1",
        11 or 65 => "ascii",
        33 or 83 or 192 => "utf8mb3",
        45 or 46 or 224 or 246 or 255 or 278 or 309 => "utf8mb4",
        63 => "binary",
        _ => throw new InvalidDataException($"USER_VAR: collation id {collation} is not one replay knows; use binlog_format=ROW."),
    };

    public static ulong Xid(BinlogEvent e) => BinaryPrimitives.ReadUInt64LittleEndian(e.Body.Span);

    public static string AnnotateRows(BinlogEvent e) => Encoding.UTF8.GetString(e.Body.Span);

    public static TableMapInfo TableMap(BinlogEvent e, BinlogFormat format)
    {
        var body = e.Body.Span;
        var idSize = format.PostHeaderLength(BinlogEventType.TableMap, 8) == 6 ? 4 : 6;
        var tableId = ReadUInt48(body, idSize);
        var r = new WireReader(body[(idSize + 2)..]);
        var schemaLength = r.Byte();
        var schema = Encoding.UTF8.GetString(r.Bytes(schemaLength));
        r.Byte();
        var tableLength = r.Byte();
        var table = Encoding.UTF8.GetString(r.Bytes(tableLength));
        r.Byte();
        var columns = (int)r.LengthEncoded()!.Value;
        var typesAt = idSize + 2 + r.Position;
        r.Bytes(columns);
        var metadataLength = (int)r.LengthEncoded()!.Value;
        var metadataAt = idSize + 2 + r.Position;
        return new TableMapInfo(tableId, schema, table, columns, e.Body.Slice(typesAt, columns), e.Body.Slice(metadataAt, metadataLength));
    }

    /// <summary>The table id and flags of a row event (v1, v2 or MariaDB's compressed forms).</summary>
    public static (ulong TableId, ushort Flags) Rows(BinlogEvent e, BinlogFormat format)
    {
        var body = e.Body.Span;
        var idSize = format.PostHeaderLength(e.Type, 8) == 6 ? 4 : 6;
        return (ReadUInt48(body, idSize), BinaryPrimitives.ReadUInt16LittleEndian(body[idSize..]));
    }

    public static bool IsRows(BinlogEventType type) => type is BinlogEventType.WriteRowsV1 or BinlogEventType.UpdateRowsV1 or BinlogEventType.DeleteRowsV1
        or BinlogEventType.WriteRows or BinlogEventType.UpdateRows or BinlogEventType.DeleteRows or BinlogEventType.PartialUpdateRows
        or >= BinlogEventType.MariaWriteRowsCompressedV1 and <= BinlogEventType.MariaDeleteRowsCompressed;

    public static GtidInfo Gtid(BinlogEvent e)
    {
        var body = e.Body.Span;
        if (e.Type == BinlogEventType.MariaGtid)
        {
            var sequence = BinaryPrimitives.ReadUInt64LittleEndian(body);
            var domain = BinaryPrimitives.ReadUInt32LittleEndian(body[8..]);
            var flags = body[12];
            string? xid = null;
            // Transactions the source committed in one group (same commit_id) held no conflicting locks then.
            ulong? commitId = (flags & GtidInfo.MariaGroupCommitId) != 0 && body.Length >= 21 ? BinaryPrimitives.ReadUInt64LittleEndian(body[13..]) : null;
            if ((flags & GtidInfo.MariaGroupCommitId) == 0 && (flags & (GtidInfo.MariaPreparedXa | GtidInfo.MariaCompletedXa)) != 0 && body.Length >= 19)
            {
                // format id, gtrid length, bqual length (one byte each here), then the bytes
                xid = XidLiteral(BinaryPrimitives.ReadInt32LittleEndian(body[13..]), body.Slice(19, body[17]), body.Slice(19 + body[17], body[18]));
            }

            return new GtidInfo($"{domain}-{e.Header.ServerId}-{sequence}", false, Domain: domain, Sequence: sequence, Standalone: (flags & GtidInfo.MariaStandalone) != 0,
                Flags: flags, Xid: xid, ServerId: e.Header.ServerId, CommitId: commitId);
        }

        // MySQL GTID / ANONYMOUS_GTID: flags, SID, GNO, then the logical clock, then the commit times.
        var gno = BinaryPrimitives.ReadInt64LittleEndian(body[17..]);
        long lastCommitted = 0, sequenceNumber = 0;
        DateTimeOffset? committed = null;
        if (body.Length >= 42 && body[25] == 2)
        {
            lastCommitted = BinaryPrimitives.ReadInt64LittleEndian(body[26..]);
            sequenceNumber = BinaryPrimitives.ReadInt64LittleEndian(body[34..]);
            if (body.Length >= 49)
            {
                // immediate_commit_timestamp: 7 bytes of microseconds; the top bit says the original one follows.
                var micros = (long)(ReadUInt56(body[42..]) & ~(1UL << 55));
                if (micros > 0)
                {
                    committed = DateTimeOffset.UnixEpoch.AddTicks(micros * 10);
                }
            }
        }

        var anonymous = e.Type == BinlogEventType.AnonymousGtid;
        return new GtidInfo(anonymous ? "ANONYMOUS" : $"{Uuid(body.Slice(1, 16))}:{gno}", anonymous, lastCommitted, sequenceNumber, Sequence: (ulong)gno,
            CommitTime: committed, ServerId: e.Header.ServerId);
    }

    /// <summary>XA_PREPARE (MySQL and MariaDB): one-phase flag, format id, gtrid and bqual lengths (4 bytes each), then the XID's bytes.</summary>
    public static (bool OnePhase, string Xid) XaPrepare(BinlogEvent e)
    {
        var body = e.Body.Span;
        var gtrid = BinaryPrimitives.ReadInt32LittleEndian(body[5..]);
        var bqual = BinaryPrimitives.ReadInt32LittleEndian(body[9..]);
        return (body[0] != 0, XidLiteral(BinaryPrimitives.ReadInt32LittleEndian(body[1..]), body.Slice(13, gtrid), body.Slice(13 + gtrid, bqual)));
    }

    /// <summary>An XID as XA statements take it: X'gtrid',X'bqual',formatID (the form the stock binlog tools print).</summary>
    public static string XidLiteral(int formatId, ReadOnlySpan<byte> gtrid, ReadOnlySpan<byte> bqual) =>
        $"X'{Convert.ToHexString(gtrid).ToLowerInvariant()}',X'{Convert.ToHexString(bqual).ToLowerInvariant()}',{formatId}";

    private static ulong ReadUInt56(ReadOnlySpan<byte> bytes)
    {
        ulong v = 0;
        for (var i = 6; i >= 0; i--)
        {
            v = (v << 8) | bytes[i];
        }

        return v;
    }

    /// <summary>MariaDB GTID_LIST: the GTID state at the start of a file.</summary>
    public static IReadOnlyList<GtidListEntry> GtidList(BinlogEvent e)
    {
        var body = e.Body.Span;
        var count = (int)(BinaryPrimitives.ReadUInt32LittleEndian(body) & 0x0FFFFFFF);
        var list = new List<GtidListEntry>(count);
        for (var i = 0; i < count; i++)
        {
            var at = 4 + i * 16;
            list.Add(new GtidListEntry(BinaryPrimitives.ReadUInt32LittleEndian(body[at..]), BinaryPrimitives.ReadUInt32LittleEndian(body[(at + 4)..]),
                BinaryPrimitives.ReadUInt64LittleEndian(body[(at + 8)..])));
        }

        return list;
    }

    /// <summary>MySQL PREVIOUS_GTIDS as a GTID set text ("uuid:1-5:7,uuid2:1-3").</summary>
    public static string PreviousGtids(BinlogEvent e)
    {
        var body = e.Body.Span;
        var sids = (int)BinaryPrimitives.ReadUInt64LittleEndian(body);
        var at = 8;
        var parts = new List<string>();
        for (var i = 0; i < sids; i++)
        {
            var text = new StringBuilder(Uuid(body.Slice(at, 16)));
            var intervals = (int)BinaryPrimitives.ReadUInt64LittleEndian(body[(at + 16)..]);
            at += 24;
            for (var j = 0; j < intervals; j++)
            {
                var start = BinaryPrimitives.ReadInt64LittleEndian(body[at..]);
                var end = BinaryPrimitives.ReadInt64LittleEndian(body[(at + 8)..]) - 1; // stored exclusive
                text.Append(':').Append(start);
                if (end > start)
                {
                    text.Append('-').Append(end);
                }

                at += 16;
            }

            parts.Add(text.ToString());
        }

        return string.Join(",", parts);
    }

    /// <summary>
    /// The events inside a MySQL TRANSACTION_PAYLOAD (binlog_transaction_compression): a small
    /// type-length-value header, then the zstd-compressed events, which carry no checksums.
    /// </summary>
    public static IReadOnlyList<BinlogEvent> TransactionPayload(BinlogEvent e)
    {
        var body = e.Body;
        var r = new WireReader(body.Span);
        ulong compression = 0, uncompressedSize = 0, payloadSize = 0;
        while (true)
        {
            var field = r.LengthEncoded() ?? 0;
            if (field == 0)
            {
                break; // end of the header
            }

            var length = (int)(r.LengthEncoded() ?? 0);
            var valueReader = new WireReader(r.Bytes(length));
            var value = valueReader.LengthEncoded() ?? 0;
            switch (field)
            {
                case 1: payloadSize = value; break;
                case 2: compression = value; break;
                case 3: uncompressedSize = value; break;
            }
        }

        var payload = body[r.Position..];
        if (payloadSize != 0 && (ulong)payload.Length != payloadSize)
        {
            throw new InvalidDataException($"TRANSACTION_PAYLOAD at {e.Position}: {payload.Length} payload bytes, header says {payloadSize}.");
        }

        byte[] plain;
        if (compression == 0)
        {
            using var z = Zstd.Decompress(new MemoryStream(payload.ToArray()));
            using var output = new MemoryStream((int)Math.Min(uncompressedSize, int.MaxValue / 2));
            z.CopyTo(output);
            plain = output.ToArray();
        }
        else if (compression == 255)
        {
            plain = payload.ToArray();
        }
        else
        {
            throw new InvalidDataException($"TRANSACTION_PAYLOAD at {e.Position}: unknown compression type {compression}.");
        }

        var events = new List<BinlogEvent>();
        var inner = new BinlogParser();
        for (var at = 0; at < plain.Length;)
        {
            var size = (int)BinaryPrimitives.ReadUInt32LittleEndian(plain.AsSpan(at + 9));
            events.Add(inner.Parse(plain.AsMemory(at, size), e.Position, hasChecksum: false));
            at += size;
        }

        return events;
    }

    /// <summary>A MySQL server UUID from its 16 bytes, in the usual 8-4-4-4-12 form.</summary>
    public static string Uuid(ReadOnlySpan<byte> sid)
    {
        var hex = Convert.ToHexString(sid).ToLowerInvariant();
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }

    private static ulong ReadUInt48(ReadOnlySpan<byte> body, int size)
    {
        ulong v = 0;
        for (var i = size - 1; i >= 0; i--)
        {
            v = (v << 8) | body[i];
        }

        return v;
    }
}
