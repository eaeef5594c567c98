using System.Buffers;
using System.Globalization;
using System.Text;
using MySqlConnector;

namespace EcomDr.Engine.MySql.Dump;

/// <summary>
/// Writes column values as SQL literals into a UTF-8 buffer: the exact text a stock mysql client
/// loads back to the same bytes. Binary values are hex literals (ASCII-safe, so a chunk is valid
/// UTF-8 text); strings escape quote, backslash, NUL, CR, LF and Ctrl-Z so every statement is one line.
/// </summary>
internal static class SqlLiteralWriter
{
    private static readonly byte[] Null = "NULL"u8.ToArray();
    private static readonly byte[] HexDigits = "0123456789ABCDEF"u8.ToArray();

    /// <summary>The writer for a column's values, chosen once per column from its type.</summary>
    public static Action<MySqlDataReader, int, ArrayBufferWriter<byte>> For(ColumnInfo column) => column.DataType switch
    {
        "tinyint" or "smallint" or "mediumint" or "int" or "bigint" or "year" => column.Unsigned ? Unsigned : Signed,
        "decimal" or "numeric" => Decimal,
        "float" => (r, i, w) => Ascii(w, r.GetFloat(i).ToString("R", CultureInfo.InvariantCulture)),
        "double" or "real" => (r, i, w) => Ascii(w, r.GetDouble(i).ToString("R", CultureInfo.InvariantCulture)),
        "bit" => Bit,
        "date" or "datetime" or "timestamp" => DateTimeValue,
        "time" => Time,
        "binary" or "varbinary" or "tinyblob" or "blob" or "mediumblob" or "longblob" or "geometry" or "point" or "linestring" or "polygon"
            or "multipoint" or "multilinestring" or "multipolygon" or "geometrycollection" => Binary,
        _ => Text, // char, varchar, text types, enum, set, json (MariaDB: longtext), inet, uuid
    };

    public static void WriteNull(ArrayBufferWriter<byte> w) => w.Write(Null);

    // Formatted straight into the buffer: the dump's hottest path allocates nothing for numbers.
    private static void Signed(MySqlDataReader r, int i, ArrayBufferWriter<byte> w)
    {
        r.GetInt64(i).TryFormat(w.GetSpan(20), out var n, default, CultureInfo.InvariantCulture);
        w.Advance(n);
    }

    private static void Unsigned(MySqlDataReader r, int i, ArrayBufferWriter<byte> w)
    {
        r.GetUInt64(i).TryFormat(w.GetSpan(20), out var n, default, CultureInfo.InvariantCulture);
        w.Advance(n);
    }

    // MySqlDecimal keeps all 65 digits; System.Decimal holds only 28-29.
    private static void Decimal(MySqlDataReader r, int i, ArrayBufferWriter<byte> w) => Ascii(w, r.GetMySqlDecimal(i).ToString());

    private static void Bit(MySqlDataReader r, int i, ArrayBufferWriter<byte> w) =>
        Ascii(w, "b'" + Convert.ToString(unchecked((long)r.GetUInt64(i)), 2) + "'");

    private static void DateTimeValue(MySqlDataReader r, int i, ArrayBufferWriter<byte> w)
    {
        var value = r.GetMySqlDateTime(i);
        if (!value.IsValidDateTime)
        {
            // Zero dates ('0000-00-00') exist in old data; write them as the server showed them.
            Ascii(w, $"'{value.Year:D4}-{value.Month:D2}-{value.Day:D2} {value.Hour:D2}:{value.Minute:D2}:{value.Second:D2}.{value.Microsecond:D6}'");
            return;
        }

        var span = w.GetSpan(28);
        span[0] = (byte)'\'';
        value.GetDateTime().TryFormat(span[1..], out var n, "yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
        span[n + 1] = (byte)'\'';
        w.Advance(n + 2);
    }

    private static void Time(MySqlDataReader r, int i, ArrayBufferWriter<byte> w)
    {
        var value = r.GetTimeSpan(i);
        var sign = value < TimeSpan.Zero ? "-" : "";
        var abs = value.Duration();
        Ascii(w, $"'{sign}{(long)abs.TotalHours}:{abs.Minutes:D2}:{abs.Seconds:D2}.{abs.Ticks % TimeSpan.TicksPerSecond / 10:D6}'");
    }

    private static void Binary(MySqlDataReader r, int i, ArrayBufferWriter<byte> w)
    {
        var bytes = (byte[])r.GetValue(i);
        if (bytes.Length == 0)
        {
            Ascii(w, "''");
            return;
        }

        var span = w.GetSpan(bytes.Length * 2 + 3);
        span[0] = (byte)'X';
        span[1] = (byte)'\'';
        for (var k = 0; k < bytes.Length; k++)
        {
            span[2 + 2 * k] = HexDigits[bytes[k] >> 4];
            span[3 + 2 * k] = HexDigits[bytes[k] & 15];
        }

        span[2 + 2 * bytes.Length] = (byte)'\'';
        w.Advance(bytes.Length * 2 + 3);
    }

    private static void Text(MySqlDataReader r, int i, ArrayBufferWriter<byte> w)
    {
        var value = r.GetValue(i);
        var text = value switch
        {
            string s => s,
            byte[] b => Encoding.UTF8.GetString(b),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        };
        WriteString(w, text);
    }

    public static void WriteString(ArrayBufferWriter<byte> w, string text)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length) * 2 + 2;
        var span = w.GetSpan(max);
        var n = 0;
        span[n++] = (byte)'\'';
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            var escape = rune.Value switch
            {
                '\'' => (byte)'\'',
                '\\' => (byte)'\\',
                0 => (byte)'0',
                '\n' => (byte)'n',
                '\r' => (byte)'r',
                0x1A => (byte)'Z',
                _ => (byte)0,
            };
            if (escape != 0)
            {
                span[n++] = (byte)'\\';
                span[n++] = escape;
                continue;
            }

            n += rune.EncodeToUtf8(span[n..]);
        }

        span[n++] = (byte)'\'';
        w.Advance(n);
    }

    public static void Ascii(ArrayBufferWriter<byte> w, string text)
    {
        var span = w.GetSpan(text.Length);
        for (var k = 0; k < text.Length; k++)
        {
            span[k] = (byte)text[k];
        }

        w.Advance(text.Length);
    }
}
