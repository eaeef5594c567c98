using System.Buffers.Binary;
using System.IO.Hashing;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>
/// Turns raw event bytes into <see cref="BinlogEvent"/>s, tracking the format (checksums on or off)
/// from each FORMAT_DESCRIPTION event and verifying every CRC32. Shared by the file reader, the
/// replication client and point-in-time replay.
/// </summary>
public sealed class BinlogParser
{
    public static ReadOnlySpan<byte> Magic => new byte[] { 0xFE, (byte)'b', (byte)'i', (byte)'n' };

    public BinlogFormat Format { get; private set; } = BinlogFormat.Initial;

    /// <summary>
    /// Whether events carry a CRC32 before the first FORMAT_DESCRIPTION says so: a replication stream
    /// starts with a made-up ROTATE that already has one when the server's binlog_checksum is CRC32.
    /// </summary>
    public void AssumeChecksums(bool checksums) => Format = Format with { Checksums = checksums };

    /// <summary>Parses one whole event. <paramref name="raw"/> must be exactly the event's bytes.</summary>
    public BinlogEvent Parse(ReadOnlyMemory<byte> raw, long position, bool hasChecksum = true)
    {
        var span = raw.Span;
        var header = BinlogEventHeader.Parse(span);
        if (header.EventSize != raw.Length)
        {
            throw new InvalidDataException($"Binlog event at {position}: header says {header.EventSize} bytes, {raw.Length} given.");
        }

        if (header.Type == BinlogEventType.FormatDescription)
        {
            Format = BinlogFormat.FromEvent(span);
        }

        // A checksum-aware server's FDE always carries 4 checksum bytes, even with checksums off.
        var isFde = header.Type == BinlogEventType.FormatDescription;
        var bodyEnd = raw.Length;
        if (hasChecksum && (Format.Checksums || (isFde && Format.ChecksumAware)))
        {
            bodyEnd -= BinlogFormat.ChecksumSize;
            if (Format.Checksums)
            {
                var expected = BinaryPrimitives.ReadUInt32LittleEndian(span[bodyEnd..]);
                var actual = Crc32.HashToUInt32(span[..bodyEnd]);
                if (expected != actual)
                {
                    throw new InvalidDataException($"Binlog event {header.Type} at {position}: CRC32 mismatch (stored {expected:x8}, computed {actual:x8}).");
                }
            }
        }

        return new BinlogEvent(header, position, raw, raw[BinlogEventHeader.Size..bodyEnd]);
    }

    /// <summary>Every event of a whole binlog file (magic number first), in order, ending exactly at its last byte.</summary>
    public static IEnumerable<BinlogEvent> ReadFile(ReadOnlyMemory<byte> file)
    {
        if (file.Length < 4 || !file.Span[..4].SequenceEqual(Magic))
        {
            throw new InvalidDataException("Not a binlog file: the magic number 0xFE 'bin' is missing.");
        }

        var parser = new BinlogParser();
        long position = 4;
        while (position < file.Length)
        {
            if (file.Length - position < BinlogEventHeader.Size)
            {
                throw new InvalidDataException($"Binlog ends inside an event header at {position}.");
            }

            var size = BinaryPrimitives.ReadUInt32LittleEndian(file.Span[(int)(position + 9)..]);
            if (size < BinlogEventHeader.Size || position + size > file.Length)
            {
                throw new InvalidDataException($"Binlog event at {position} claims {size} bytes; the file has {file.Length - position} left.");
            }

            var e = parser.Parse(file.Slice((int)position, (int)size), position);
            yield return e;
            position += size;
        }
    }
}
