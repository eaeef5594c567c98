using System.Text;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>
/// MySQL's packed DECIMAL (row images, USER_VAR): each side of the point in groups of 9 digits per 4
/// big-endian bytes, a shorter group for the remaining digits (leading on the integer side, trailing
/// on the fraction side), the sign in the inverted top bit, negative values with every byte inverted.
/// </summary>
public static class DecimalBinary
{
    private static ReadOnlySpan<byte> LeftoverBytes => [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

    public static int Size(int precision, int scale)
    {
        var integral = precision - scale;
        return integral / 9 * 4 + LeftoverBytes[integral % 9] + scale / 9 * 4 + LeftoverBytes[scale % 9];
    }

    /// <summary>The value as SQL decimal text, for example -12.50.</summary>
    public static string ToText(ReadOnlySpan<byte> packed, int precision, int scale)
    {
        var bytes = packed[..Size(precision, scale)].ToArray();
        var negative = (bytes[0] & 0x80) == 0;
        bytes[0] ^= 0x80;
        if (negative)
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                bytes[i] ^= 0xFF;
            }
        }

        var at = 0;
        long Read(int count)
        {
            long v = 0;
            for (var i = 0; i < count; i++)
            {
                v = (v << 8) | bytes[at++];
            }

            return v;
        }

        var integral = precision - scale;
        var digits = new StringBuilder();
        if (LeftoverBytes[integral % 9] > 0)
        {
            digits.Append(Read(LeftoverBytes[integral % 9]));
        }

        for (var i = 0; i < integral / 9; i++)
        {
            digits.Append(Read(4).ToString("D9", System.Globalization.CultureInfo.InvariantCulture));
        }

        var text = new StringBuilder(negative ? "-" : "");
        var whole = digits.ToString().TrimStart('0');
        text.Append(whole.Length == 0 ? "0" : whole);
        if (scale > 0)
        {
            text.Append('.');
            for (var i = 0; i < scale / 9; i++)
            {
                text.Append(Read(4).ToString("D9", System.Globalization.CultureInfo.InvariantCulture));
            }

            if (scale % 9 > 0)
            {
                text.Append(Read(LeftoverBytes[scale % 9]).ToString("D" + (scale % 9), System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }
}
