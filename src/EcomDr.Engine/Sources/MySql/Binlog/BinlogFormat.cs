using System.Text;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>
/// What a FORMAT_DESCRIPTION event says about the events after it: the server version, the
/// post-header length of each event type and whether events end with a CRC32 checksum.
/// </summary>
public sealed record BinlogFormat(string ServerVersion, byte HeaderLength, byte[] PostHeaderLengths, bool Checksums, bool ChecksumAware = false)
{
    public const int ChecksumSize = 4;

    /// <summary>Before any FDE is seen (the start of a replication stream): version 4 layout, checksums unknown (off).</summary>
    public static BinlogFormat Initial { get; } = new("", BinlogEventHeader.Size, Array.Empty<byte>(), false);

    public bool IsMariaDb => ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);

    public int PostHeaderLength(BinlogEventType type, int fallback)
    {
        var index = (int)type - 1;
        return index >= 0 && index < PostHeaderLengths.Length ? PostHeaderLengths[index] : fallback;
    }

    /// <summary>Reads an FDE from its raw bytes (header included).</summary>
    public static BinlogFormat FromEvent(ReadOnlySpan<byte> raw)
    {
        var body = raw[BinlogEventHeader.Size..];
        var version = Encoding.ASCII.GetString(body.Slice(2, 50)).TrimEnd('\0');
        var headerLength = body[56];
        // Checksum-aware servers (MySQL 5.6.1+, MariaDB 5.3+) end the FDE with the algorithm byte
        // and 4 checksum bytes, present even when the algorithm is "off".
        var aware = IsChecksumAware(version);
        var end = aware ? body.Length - 1 - ChecksumSize : body.Length;
        var postHeaders = body[57..end].ToArray();
        var checksums = aware && body[end] == 1;
        return new BinlogFormat(version, headerLength, postHeaders, checksums, aware);
    }

    private static bool IsChecksumAware(string version)
    {
        var numbers = version.Split('-', 2)[0].Split('.');
        if (numbers.Length < 3 || !int.TryParse(numbers[0], out var major) || !int.TryParse(numbers[1], out var minor))
        {
            return true;
        }

        var patch = int.TryParse(new string(numbers[2].TakeWhile(char.IsDigit).ToArray()), out var p) ? p : 0;
        var v = (major, minor, patch);
        return version.Contains("MariaDB", StringComparison.OrdinalIgnoreCase) || major >= 10 ? v.CompareTo((5, 3, 0)) >= 0 : v.CompareTo((5, 6, 1)) >= 0;
    }
}
