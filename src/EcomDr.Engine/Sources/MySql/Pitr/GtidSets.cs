using System.Globalization;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// Whether a GTID is in a recorded GTID state: MariaDB's position list ("0-1-120,1-2-7": one last
/// sequence number per domain) or MySQL's set ("uuid:1-5:7,uuid2:1-3").
/// </summary>
public static partial class GtidSets
{
    /// <summary>True or false; null when either text is not a GTID of a form this reads.</summary>
    public static bool? Contains(string set, string gtid)
    {
        var parts = set.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (MariaDb(gtid) is { } g)
        {
            foreach (var part in parts)
            {
                if (MariaDb(part) is not { } p)
                {
                    return null;
                }

                if (p.Domain == g.Domain)
                {
                    return p.Sequence >= g.Sequence;
                }
            }

            return false;
        }

        if (MySql(gtid) is not { } m)
        {
            return null;
        }

        foreach (var part in parts)
        {
            var fields = part.Split(':');
            if (!fields[0].Equals(m.Uuid, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            // uuid:1-5:7:tag:1-3 — intervals belong to the tag named last before them (none at first).
            var tag = "";
            foreach (var field in fields.Skip(1))
            {
                if (field.Length > 0 && !char.IsAsciiDigit(field[0]))
                {
                    tag = field;
                    continue;
                }

                var dash = field.IndexOf('-', StringComparison.Ordinal);
                var (from, to) = dash < 0 ? (field, field) : (field[..dash], field[(dash + 1)..]);
                if (tag.Equals(m.Tag, StringComparison.OrdinalIgnoreCase)
                    && ulong.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out var a) && ulong.TryParse(to, NumberStyles.None, CultureInfo.InvariantCulture, out var b)
                    && a <= m.Number && m.Number <= b)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>A MySQL GTID "uuid:number" or, from MySQL 8.3, "uuid:tag:number" (a tag: a letter or _, then up to 31 letters, digits or _).</summary>
    public static (string Uuid, string Tag, ulong Number)? MySql(string gtid)
    {
        var fields = gtid.Trim().Split(':');
        if (fields.Length is < 2 or > 3 || !Guid.TryParseExact(fields[0], "D", out _)
            || !ulong.TryParse(fields[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number == 0)
        {
            return null;
        }

        var tag = fields.Length == 3 ? fields[1] : "";
        if (fields.Length == 3 && !TagPattern().IsMatch(tag))
        {
            return null;
        }

        return (fields[0], tag, number);
    }

    /// <summary>Whether the text is one GTID of either kind (what a stop point or -SkipGtid takes).</summary>
    public static bool IsGtid(string text) => MariaDb(text) is not null || MySql(text) is not null;

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,31}$")]
    private static partial System.Text.RegularExpressions.Regex TagPattern();

    /// <summary>A MariaDB GTID "domain-server-sequence".</summary>
    public static (uint Domain, uint Server, ulong Sequence)? MariaDb(string gtid)
    {
        var f = gtid.Trim().Split('-');
        return f.Length == 3 && uint.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out var d) && uint.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out var s)
            && ulong.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? (d, s, n) : null;
    }
}
