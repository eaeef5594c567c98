using System.Buffers.Binary;
using System.Text;

namespace EcomDr.Engine.Sources.MySql.Wire;

/// <summary>Reads the protocol's basic types from a payload, front to back.</summary>
internal ref struct WireReader(ReadOnlySpan<byte> payload)
{
    private readonly ReadOnlySpan<byte> _payload = payload;

    public int Position { get; set; }

    public readonly int Remaining => _payload.Length - Position;

    public readonly bool AtEnd => Position >= _payload.Length;

    public readonly byte Peek() => _payload[Position];

    public byte Byte() => _payload[Position++];

    public ushort UInt16()
    {
        var v = BinaryPrimitives.ReadUInt16LittleEndian(_payload[Position..]);
        Position += 2;
        return v;
    }

    public uint UInt24()
    {
        var v = (uint)(_payload[Position] | (_payload[Position + 1] << 8) | (_payload[Position + 2] << 16));
        Position += 3;
        return v;
    }

    public uint UInt32()
    {
        var v = BinaryPrimitives.ReadUInt32LittleEndian(_payload[Position..]);
        Position += 4;
        return v;
    }

    public ulong UInt64()
    {
        var v = BinaryPrimitives.ReadUInt64LittleEndian(_payload[Position..]);
        Position += 8;
        return v;
    }

    /// <summary>A length-encoded integer; null for the NULL marker 0xFB.</summary>
    public ulong? LengthEncoded()
    {
        var first = Byte();
        return first switch
        {
            < 0xFB => first,
            0xFB => null,
            0xFC => UInt16(),
            0xFD => UInt24(),
            0xFE => UInt64(),
            _ => throw new InvalidDataException("Invalid length-encoded integer (0xFF)."),
        };
    }

    public ReadOnlySpan<byte> Bytes(int count)
    {
        var v = _payload.Slice(Position, count);
        Position += count;
        return v;
    }

    public ReadOnlySpan<byte> Rest() => Bytes(Remaining);

    /// <summary>A length-encoded string; <paramref name="isNull"/> for the NULL marker.</summary>
    public ReadOnlySpan<byte> LengthEncodedBytes(out bool isNull)
    {
        var length = LengthEncoded();
        isNull = length is null;
        return isNull ? default : Bytes(checked((int)length!.Value));
    }

    public string LengthEncodedString() => Encoding.UTF8.GetString(LengthEncodedBytes(out _));

    public ReadOnlySpan<byte> NulTerminated()
    {
        var end = _payload[Position..].IndexOf((byte)0);
        var v = end < 0 ? _payload[Position..] : _payload.Slice(Position, end);
        Position += v.Length + (end < 0 ? 0 : 1);
        return v;
    }

    public string NulTerminatedString() => Encoding.UTF8.GetString(NulTerminated());
}
