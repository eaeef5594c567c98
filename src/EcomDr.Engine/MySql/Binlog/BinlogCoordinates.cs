using System.Globalization;

namespace EcomDr.Engine.MySql.Binlog;

/// <summary>Binlog coordinates (file:position) compared and parsed: files by their number, so binlog.000010 follows binlog.000009.</summary>
public static class BinlogCoordinates
{
    /// <summary>Negative, zero or positive as a:ap is before, at or after b:bp.</summary>
    public static int Compare(string a, long ap, string b, long bp)
    {
        var byFile = CompareFiles(a, b);
        return byFile != 0 ? byFile : ap.CompareTo(bp);
    }

    public static int CompareFiles(string a, string b)
    {
        static long Number(string f) => long.TryParse(f[(f.LastIndexOf('.') + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
        var (na, nb) = (Number(a), Number(b));
        return na >= 0 && nb >= 0 && a[..a.LastIndexOf('.')] == b[..b.LastIndexOf('.')] ? na.CompareTo(nb) : string.CompareOrdinal(a, b);
    }

    /// <summary>"binlog.000042:1234" as (file, position); null when it is not of that form.</summary>
    public static (string File, long Position)? TryParse(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1 || text.AsSpan(0, colon).IndexOfAny('/', '\\') >= 0
            || !long.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var position))
        {
            return null;
        }

        return (text[..colon], position);
    }
}
