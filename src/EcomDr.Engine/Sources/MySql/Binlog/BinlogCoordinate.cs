using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>
/// A place in a server's binlog, "binlog.000042:1234". Files compare by their number, so
/// binlog.000010 follows binlog.000009 whatever the width of the number.
/// </summary>
public readonly record struct BinlogCoordinate(string File, long Position) : IComparable<BinlogCoordinate>
{
    /// <summary>The first event of a file (after its 4-byte magic).</summary>
    public static BinlogCoordinate StartOf(string file) => new(file, 4);

    public int CompareTo(BinlogCoordinate other)
    {
        var byFile = CompareFiles(File, other.File);
        return byFile != 0 ? byFile : Position.CompareTo(other.Position);
    }

    public static bool operator <(BinlogCoordinate a, BinlogCoordinate b) => a.CompareTo(b) < 0;

    public static bool operator >(BinlogCoordinate a, BinlogCoordinate b) => a.CompareTo(b) > 0;

    public static bool operator <=(BinlogCoordinate a, BinlogCoordinate b) => a.CompareTo(b) <= 0;

    public static bool operator >=(BinlogCoordinate a, BinlogCoordinate b) => a.CompareTo(b) >= 0;

    public static int CompareFiles(string a, string b)
    {
        static long Number(string f) => long.TryParse(f[(f.LastIndexOf('.') + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
        var (na, nb) = (Number(a), Number(b));
        return na >= 0 && nb >= 0 && a[..a.LastIndexOf('.')] == b[..b.LastIndexOf('.')] ? na.CompareTo(nb) : string.CompareOrdinal(a, b);
    }

    /// <summary>"binlog.000042:1234"; false when the text is not of that form (a file name without folders, a number).</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out BinlogCoordinate? coordinate)
    {
        coordinate = null;
        var colon = text?.LastIndexOf(':') ?? -1;
        if (text is null || colon <= 0 || colon == text.Length - 1 || text.AsSpan(0, colon).IndexOfAny('/', '\\') >= 0
            || !long.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var position))
        {
            return false;
        }

        coordinate = new BinlogCoordinate(text[..colon], position);
        return true;
    }

    /// <summary>A coordinate the user gave (<paramref name="parameter"/>); a terminating InvalidArgument error naming it otherwise.</summary>
    public static BinlogCoordinate Parse(string text, string parameter, string errorId = ErrorIds.InvalidArgument) =>
        TryParse(text, out var coordinate) ? coordinate.Value
        : throw new EcomDrException(errorId, FailureKind.InvalidArgument,
            $"{parameter} '{text}' is not file:position (binlog.000042:1234, the file as the server names it). Nothing was changed.", text);

    public override string ToString() => $"{File}:{Position.ToString(CultureInfo.InvariantCulture)}";
}
