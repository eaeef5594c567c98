using System.Buffers.Binary;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>The 19-byte header every binlog event starts with (binlog format version 4).</summary>
public readonly record struct BinlogEventHeader(uint Timestamp, BinlogEventType Type, uint ServerId, uint EventSize, uint NextPosition, ushort Flags)
{
    public const int Size = 19;

    /// <summary>LOG_EVENT_ARTIFICIAL_F: made up by the server for a replica (a fake ROTATE), never in a file.</summary>
    public const ushort ArtificialFlag = 0x20;

    public bool IsArtificial => (Flags & ArtificialFlag) != 0;

    public DateTimeOffset Time => DateTimeOffset.FromUnixTimeSeconds(Timestamp);

    public static BinlogEventHeader Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Size)
        {
            throw new InvalidDataException($"A binlog event header needs {Size} bytes; {bytes.Length} remain.");
        }

        return new BinlogEventHeader(
            BinaryPrimitives.ReadUInt32LittleEndian(bytes),
            (BinlogEventType)bytes[4],
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[5..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[9..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[13..]),
            BinaryPrimitives.ReadUInt16LittleEndian(bytes[17..]));
    }
}

/// <summary>
/// One event as it is in the file: its header, its position, its raw bytes (header to checksum) and
/// its body (after the header, without the checksum). Events inside a TRANSACTION_PAYLOAD have no
/// checksum and carry the payload event's position.
/// </summary>
public sealed record BinlogEvent(BinlogEventHeader Header, long Position, ReadOnlyMemory<byte> Raw, ReadOnlyMemory<byte> Body)
{
    public BinlogEventType Type => Header.Type;

    public long EndPosition => Position + Raw.Length;

    public override string ToString() => $"{Type} at {Position} ({Raw.Length} bytes)";
}
