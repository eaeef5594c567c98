using System.Globalization;
using System.Text;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// Puts any legal identifier (a schema or table name: spaces, %, *, ?, ., /, \, quotes, backticks,
/// unicode, 64 characters) into one segment of an artifact name, reversibly (docs/format.md, "Names in
/// artifact names"): ASCII letters, digits, '_' and '-' stay; every other ASCII character, and
/// non-ASCII spaces, controls and format characters, become %XX per UTF-8 byte (upper-case hex);
/// other non-ASCII characters stay as they are. A 64-character name fits in 192 bytes, so a segment
/// always fits a file name.
/// </summary>
public static class ArtifactNames
{
    public static string Encode(string identifier)
    {
        var output = new StringBuilder(identifier.Length + 8);
        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < identifier.Length; i++)
        {
            var c = identifier[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '-' || (c >= '\u0080' && !NeedsEscape(c)))
            {
                output.Append(c);
                continue;
            }

            var length = char.IsHighSurrogate(c) && i + 1 < identifier.Length
                ? Encoding.UTF8.GetBytes(identifier.AsSpan(i++, 2), bytes)
                : Encoding.UTF8.GetBytes(identifier.AsSpan(i, 1), bytes);
            foreach (var b in bytes[..length])
            {
                output.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return output.ToString();
    }

    public static string Decode(string segment)
    {
        if (!segment.Contains('%', StringComparison.Ordinal))
        {
            return segment;
        }

        var bytes = new List<byte>(segment.Length);
        for (var i = 0; i < segment.Length; i++)
        {
            if (segment[i] == '%' && i + 2 < segment.Length && byte.TryParse(segment.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(segment[i].ToString()));
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static bool NeedsEscape(char c) =>
        char.IsWhiteSpace(c) || char.IsControl(c) || char.IsSurrogate(c)
        || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;
}
