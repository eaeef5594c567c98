using System.Globalization;

namespace EcomDr.Engine.MySql.Pitr;

/// <summary>
/// Whether a GTID is in a recorded GTID state: MariaDB's position list ("0-1-120,1-2-7": one last
/// sequence number per domain) or MySQL's set ("uuid:1-5:7,uuid2:1-3").
/// </summary>
public static class GtidSets
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

        var colon = gtid.LastIndexOf(':');
        if (colon < 0 || !ulong.TryParse(gtid[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return null;
        }

        var uuid = gtid[..colon];
        foreach (var part in parts)
        {
            var fields = part.Split(':');
            if (!fields[0].Equals(uuid, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var interval in fields.Skip(1))
            {
                var dash = interval.IndexOf('-', StringComparison.Ordinal);
                var (from, to) = dash < 0 ? (interval, interval) : (interval[..dash], interval[(dash + 1)..]);
                if (ulong.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out var a) && ulong.TryParse(to, NumberStyles.None, CultureInfo.InvariantCulture, out var b)
                    && a <= number && number <= b)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>A MariaDB GTID "domain-server-sequence".</summary>
    public static (uint Domain, uint Server, ulong Sequence)? MariaDb(string gtid)
    {
        var f = gtid.Trim().Split('-');
        return f.Length == 3 && uint.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out var d) && uint.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out var s)
            && ulong.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? (d, s, n) : null;
    }
}
