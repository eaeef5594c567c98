using System.Buffers.Binary;

namespace EcomDr.Engine.Sources.Redis;

/// <summary>
/// CRC-64 as Redis computes an RDB's trailer: the Jones polynomial 0xad93d23594c935a9, reflected input
/// and output, initial value 0, no final xor (crc64("123456789") = 0xe9c6d914c4b8d9ca). .NET's
/// System.IO.Hashing.Crc64 is the ECMA-182 polynomial and gives other values. Slicing by 8 bytes: an
/// RDB is checked as fast as it arrives.
/// </summary>
public sealed class Crc64Jones
{
    // The polynomial bit-reversed, for the least-significant-bit-first form.
    private const ulong Reflected = 0x95ac9329ac4bc9b5UL;
    private static readonly ulong[][] Tables = BuildTables();

    public ulong Value { get; private set; }

    public static ulong Compute(ReadOnlySpan<byte> data)
    {
        var crc = new Crc64Jones();
        crc.Append(data);
        return crc.Value;
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        var crc = Value;
        var t = Tables;
        while (data.Length >= 8)
        {
            crc ^= BinaryPrimitives.ReadUInt64LittleEndian(data);
            crc = t[7][crc & 0xff] ^ t[6][(crc >> 8) & 0xff] ^ t[5][(crc >> 16) & 0xff] ^ t[4][(crc >> 24) & 0xff]
                ^ t[3][(crc >> 32) & 0xff] ^ t[2][(crc >> 40) & 0xff] ^ t[1][(crc >> 48) & 0xff] ^ t[0][crc >> 56];
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = t[0][(crc ^ b) & 0xff] ^ (crc >> 8);
        }

        Value = crc;
    }

    private static ulong[][] BuildTables()
    {
        var tables = new ulong[8][];
        tables[0] = new ulong[256];
        for (var i = 0; i < 256; i++)
        {
            var crc = (ulong)i;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ Reflected : crc >> 1;
            }

            tables[0][i] = crc;
        }

        for (var k = 1; k < 8; k++)
        {
            tables[k] = new ulong[256];
            for (var i = 0; i < 256; i++)
            {
                var previous = tables[k - 1][i];
                tables[k][i] = tables[0][previous & 0xff] ^ (previous >> 8);
            }
        }

        return tables;
    }
}
