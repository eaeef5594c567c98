using System.Buffers.Binary;
using System.Numerics;
using EcomDr.Engine.Sources.MySql.Wire;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>What a walk over a rows event's images sees: each image's present columns, each value's bytes or NULL.</summary>
internal interface IRowImageVisitor
{
    void StartImage(byte[] present);

    void Value(int column, ReadOnlySpan<byte> value);

    void Null(int column);

    void EndImage();

    void EndRow();
}

/// <summary>
/// Walks the row images of a rows event: to count its rows, or to hand each value's bytes to a
/// visitor (parallel replay's writesets). Values are not decoded; each one's size
/// follows from its column type and the table map's metadata (layout: the MySQL "Binary Log" rows
/// event and table map pages). Compressed (MariaDB) and partial JSON update events are not walked.
/// </summary>
public static class RowImages
{
    /// <summary>The number of rows the event changes, or null when its images cannot be walked.</summary>
    public static int? Count(BinlogEvent rows, BinlogFormat format, TableMapInfo map)
    {
        var counter = new RowCounter();
        return Walk(rows, format, map, counter) ? counter.Rows : null;
    }

    /// <summary>
    /// Walks every image of the event, column by column, giving the visitor each present value's bytes
    /// (without a length prefix) or its NULL. False when the images cannot be walked (compressed or
    /// partial JSON events).
    /// </summary>
    internal static bool Walk(BinlogEvent rows, BinlogFormat format, TableMapInfo map, IRowImageVisitor visitor)
    {
        var type = rows.Type;
        if (type is BinlogEventType.PartialUpdateRows or >= BinlogEventType.MariaWriteRowsCompressedV1 and <= BinlogEventType.MariaDeleteRowsCompressed)
        {
            return false;
        }

        var body = rows.Body.Span;
        var idSize = format.PostHeaderLength(type, 8) == 6 ? 4 : 6;
        var at = idSize + 2;
        if (type is BinlogEventType.WriteRows or BinlogEventType.UpdateRows or BinlogEventType.DeleteRows)
        {
            at += BinaryPrimitives.ReadUInt16LittleEndian(body[at..]); // extra data, its length counting itself
        }

        var r = new WireReader(body[at..]);
        var columns = (int)r.LengthEncoded()!.Value;
        if (columns != map.ColumnCount)
        {
            throw new InvalidDataException($"Rows event at {rows.Position} has {columns} columns, its table map {map.Schema}.{map.Table} {map.ColumnCount}.");
        }

        var bitmapSize = (columns + 7) / 8;
        var present = r.Bytes(bitmapSize).ToArray();
        var presentAfter = type is BinlogEventType.UpdateRows or BinlogEventType.UpdateRowsV1 ? r.Bytes(bitmapSize).ToArray() : null;
        var metadata = ColumnMetadata(map);
        var types = map.ColumnTypes.Span;
        while (!r.AtEnd)
        {
            WalkImage(ref r, present, types, metadata, visitor);
            if (presentAfter is not null)
            {
                WalkImage(ref r, presentAfter, types, metadata, visitor);
            }

            visitor.EndRow();
        }

        return true;
    }

    /// <summary>Each column's metadata from the table map (0, 1 or 2 bytes, by type), as two bytes.</summary>
    internal static (byte B0, byte B1)[] ColumnMetadata(TableMapInfo map)
    {
        var types = map.ColumnTypes.Span;
        var raw = map.ColumnMetadata.Span;
        var result = new (byte, byte)[types.Length];
        var at = 0;
        for (var i = 0; i < types.Length; i++)
        {
            switch (MetadataSize(types[i]))
            {
                case 1:
                    result[i] = (raw[at], 0);
                    at += 1;
                    break;
                case 2:
                    result[i] = (raw[at], raw[at + 1]);
                    at += 2;
                    break;
            }
        }

        return result;
    }

    private static int MetadataSize(byte type) => type switch
    {
        4 or 5 or 17 or 18 or 19 or 245 or >= 249 and <= 252 or 255 => 1,
        15 or 16 or 246 or 247 or 248 or 253 or 254 => 2,
        _ => 0,
    };

    private static void WalkImage(ref WireReader r, byte[] present, ReadOnlySpan<byte> types, (byte B0, byte B1)[] metadata, IRowImageVisitor visitor)
    {
        var presentCount = 0;
        foreach (var b in present)
        {
            presentCount += BitOperations.PopCount(b);
        }

        var nulls = r.Bytes((presentCount + 7) / 8);
        var index = 0;
        visitor.StartImage(present);
        for (var column = 0; column < types.Length; column++)
        {
            if ((present[column / 8] & (1 << (column % 8))) == 0)
            {
                continue;
            }

            var isNull = (nulls[index / 8] & (1 << (index % 8))) != 0;
            index++;
            if (isNull)
            {
                visitor.Null(column);
            }
            else
            {
                visitor.Value(column, r.Bytes(ValueSize(types[column], metadata[column], ref r)));
            }
        }

        visitor.EndImage();
    }

    private sealed class RowCounter : IRowImageVisitor
    {
        public int Rows { get; private set; }

        public void StartImage(byte[] present)
        {
        }

        public void Value(int column, ReadOnlySpan<byte> value)
        {
        }

        public void Null(int column)
        {
        }

        public void EndImage()
        {
        }

        public void EndRow() => Rows++;
    }

    /// <summary>The bytes of one stored value; reads the length prefix of variable-length ones.</summary>
    private static int ValueSize(byte type, (byte B0, byte B1) meta, ref WireReader r)
    {
        switch (type)
        {
            case 1 or 13: return 1; // TINY, YEAR
            case 2: return 2; // SHORT
            case 9 or 10 or 11 or 14: return 3; // INT24, DATE, TIME, NEWDATE
            case 3 or 4 or 7: return 4; // LONG, FLOAT, TIMESTAMP
            case 5 or 8 or 12: return 8; // DOUBLE, LONGLONG, DATETIME
            case 6: return 0; // NULL
            case 17: return 4 + (meta.B0 + 1) / 2; // TIMESTAMP2 with its fractional digits
            case 18: return 5 + (meta.B0 + 1) / 2; // DATETIME2
            case 19: return 3 + (meta.B0 + 1) / 2; // TIME2
            case 16: return meta.B1 + (meta.B0 > 0 ? 1 : 0); // BIT: whole bytes, then the odd bits
            case 246: return DecimalBinary.Size(meta.B0, meta.B1);
            case 15 or 253: // VARCHAR, VAR_STRING: the maximum length decides the prefix
                return (meta.B0 | (meta.B1 << 8)) > 255 ? r.UInt16() : r.Byte();
            case 245 or >= 249 and <= 252 or 255: // JSON, BLOBs, GEOMETRY: a length of 1-4 bytes
                return LengthPrefix(ref r, meta.B0);
            case 247 or 248: return meta.B1; // ENUM, SET
            case 254:
            {
                // STRING carries its real type and a 10-bit maximum length in the metadata.
                int realType = meta.B0, length = meta.B1;
                if ((realType & 0x30) != 0x30)
                {
                    length |= ((realType & 0x30) ^ 0x30) << 4;
                    realType |= 0x30;
                }

                return realType is 247 or 248 ? length : length > 255 ? r.UInt16() : r.Byte();
            }

            default:
                throw new InvalidDataException($"Rows event: column type {type} cannot be walked.");
        }
    }

    private static int LengthPrefix(ref WireReader r, int bytes) => bytes switch
    {
        1 => r.Byte(),
        2 => r.UInt16(),
        3 => (int)r.UInt24(),
        4 => checked((int)r.UInt32()),
        _ => throw new InvalidDataException($"Rows event: a length prefix of {bytes} bytes."),
    };
}
