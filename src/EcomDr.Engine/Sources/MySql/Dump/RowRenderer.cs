using System.Buffers;
using System.Runtime.CompilerServices;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;

namespace EcomDr.Engine.Sources.MySql.Dump;

/// <summary>
/// Turns a text-protocol row into its SQL literal tuple "(v1,v2,...)" on the client: numbers as the
/// server sent them, strings quoted with \0 ' \ LF CR and Ctrl-Z escaped (so every INSERT stays on
/// one line), binary values as X'..' hex and BIT values as b'..', so a chunk is valid UTF-8 that the
/// stock client loads. The same bytes feed the table digest.
/// </summary>
internal sealed class RowRenderer
{
    private static readonly SearchValues<byte> Special = SearchValues.Create("\0'\\\n\r\u001a"u8);
    private static readonly byte[] Hex = "0123456789ABCDEF"u8.ToArray();
    private readonly Kind[] _kinds;

    public RowRenderer(TableInfo table)
    {
        _kinds = table.StoredColumns.Select(c => KindOf(c.DataType)).ToArray();
    }

    private enum Kind
    {
        Number,
        Text,
        Binary,
        Bit,
    }

    /// <summary>The SELECT of the stored columns, in table order.</summary>
    public static string Select(TableInfo table, string where = "", string orderBy = "") =>
        $"SELECT {string.Join(", ", table.StoredColumns.Select(c => Identifiers.Quote(c.Name)))} FROM {table.QualifiedName}{where}{orderBy}";

    /// <summary>Appends the row's literal tuple to <paramref name="output"/>.</summary>
    // Runs once per row: compiled optimized at once rather than after tiering, which a fresh process's
    // first backup waited for (docs/benchmarks.md, one large table).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Render(ReadOnlySpan<byte> row, ArrayBufferWriter<byte> output)
    {
        var r = new WireReader(row);
        Put(output, "("u8);
        for (var i = 0; i < _kinds.Length; i++)
        {
            if (i > 0)
            {
                Put(output, ","u8);
            }

            var value = r.LengthEncodedBytes(out var isNull);
            if (isNull)
            {
                Put(output, "NULL"u8);
                continue;
            }

            switch (_kinds[i])
            {
                case Kind.Number:
                    Put(output, value);
                    break;
                case Kind.Binary when value.Length == 0:
                    Put(output, "''"u8);
                    break;
                case Kind.Binary:
                    HexLiteral(value, output);
                    break;
                case Kind.Bit:
                    BitLiteral(value, output);
                    break;
                default:
                    Quoted(value, output);
                    break;
            }
        }

        Put(output, ")"u8);
    }

    private static Kind KindOf(string dataType) => dataType switch
    {
        "tinyint" or "smallint" or "mediumint" or "int" or "integer" or "bigint" or "decimal" or "numeric" or "float" or "double" or "real" => Kind.Number,
        "binary" or "varbinary" or "tinyblob" or "blob" or "mediumblob" or "longblob" or "geometry" or "point" or "linestring" or "polygon"
            or "multipoint" or "multilinestring" or "multipolygon" or "geometrycollection" => Kind.Binary,
        "bit" => Kind.Bit,
        _ => Kind.Text,
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Quoted(ReadOnlySpan<byte> value, ArrayBufferWriter<byte> output)
    {
        // Worst case every byte doubles; ask once for that much room.
        var span = output.GetSpan(value.Length * 2 + 2);
        var n = 0;
        span[n++] = (byte)'\'';
        while (true)
        {
            var next = value.IndexOfAny(Special);
            var run = next < 0 ? value : value[..next];
            run.CopyTo(span[n..]);
            n += run.Length;
            if (next < 0)
            {
                break;
            }

            span[n++] = (byte)'\\';
            span[n++] = value[next] switch
            {
                0 => (byte)'0',
                (byte)'\n' => (byte)'n',
                (byte)'\r' => (byte)'r',
                0x1a => (byte)'Z',
                var c => c,
            };
            value = value[(next + 1)..];
        }

        span[n++] = (byte)'\'';
        output.Advance(n);
    }

    private static void HexLiteral(ReadOnlySpan<byte> value, ArrayBufferWriter<byte> output)
    {
        var span = output.GetSpan(value.Length * 2 + 3);
        span[0] = (byte)'X';
        span[1] = (byte)'\'';
        var n = 2;
        foreach (var b in value)
        {
            span[n++] = Hex[b >> 4];
            span[n++] = Hex[b & 15];
        }

        span[n++] = (byte)'\'';
        output.Advance(n);
    }

    private static void BitLiteral(ReadOnlySpan<byte> value, ArrayBufferWriter<byte> output)
    {
        // BIT(M) arrives as ceil(M/8) big-endian bytes; written as b'...' without leading zeros.
        ulong bits = 0;
        foreach (var b in value)
        {
            bits = (bits << 8) | b;
        }

        Put(output, "b'"u8);
        var digits = bits == 0 ? 1 : 64 - System.Numerics.BitOperations.LeadingZeroCount(bits);
        var span = output.GetSpan(digits + 1);
        for (var i = 0; i < digits; i++)
        {
            span[i] = (byte)('0' + (int)((bits >> (digits - 1 - i)) & 1));
        }

        span[digits] = (byte)'\'';
        output.Advance(digits + 1);
    }

    private static void Put(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> bytes) => output.Write(bytes);
}
