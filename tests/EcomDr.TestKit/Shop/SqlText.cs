using System.Globalization;
using System.Text;

namespace EcomDr.TestKit.Shop;

/// <summary>SQL literal writers for building multi-row INSERTs as text (fast bulk load).</summary>
internal static class SqlText
{
    public static StringBuilder Str(this StringBuilder sb, string? value)
    {
        if (value is null)
        {
            return sb.Append("NULL");
        }

        sb.Append('\'');
        foreach (var c in value)
        {
            switch (c)
            {
                case '\'': sb.Append("\\'"); break;
                case '\\': sb.Append("\\\\"); break;
                case '\0': sb.Append("\\0"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                default: sb.Append(c); break;
            }
        }

        return sb.Append('\'');
    }

    public static StringBuilder Hex(this StringBuilder sb, byte[]? value) =>
        value is null ? sb.Append("NULL") : value.Length == 0 ? sb.Append("''") : sb.Append("X'").Append(Convert.ToHexString(value)).Append('\'');

    public static StringBuilder Dec(this StringBuilder sb, decimal value) => sb.Append(value.ToString(CultureInfo.InvariantCulture));

    public static StringBuilder Time(this StringBuilder sb, DateTime value) =>
        sb.Append('\'').Append(value.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)).Append('\'');

    public static StringBuilder Bits(this StringBuilder sb, ulong value) => sb.Append("b'").Append(Convert.ToString((long)value, 2)).Append('\'');
}
