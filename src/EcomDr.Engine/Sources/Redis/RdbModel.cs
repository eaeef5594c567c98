namespace EcomDr.Engine.Sources.Redis;

/// <summary>One key of an RDB: where it is, what it is, when it expires and how big its stored value is.</summary>
/// <param name="Database">The database number (SELECT).</param>
/// <param name="Key">The key's bytes (keys are binary-safe).</param>
/// <param name="Type">string, list, set, zset, hash, stream or module.</param>
/// <param name="Encoding">The RDB encoding of the value (for example quicklist, listpack, intset, skiplist).</param>
/// <param name="ExpiresAt">The key's expiry, if it has one.</param>
/// <param name="EncodedSize">Bytes of the value as stored in the RDB.</param>
/// <param name="Length">Elements (a string's bytes, a list's, set's or stream's entries, a hash's fields), when the RDB states it.</param>
public sealed record RdbKey(int Database, byte[] Key, string Type, string Encoding, DateTimeOffset? ExpiresAt, long EncodedSize, long? Length)
{
    public string KeyText => System.Text.Encoding.UTF8.GetString(Key);

    /// <summary>Time to live when the snapshot was taken (expiry minus the RDB's ctime), if it expires.</summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary>The RDB type byte of the value (part of a DUMP payload).</summary>
    public byte TypeByte { get; init; }

    /// <summary>The value's bytes as the RDB stores them, when the reader was asked to keep them.</summary>
    public byte[]? Value { get; init; }

    public int RdbVersion { get; init; }

    /// <summary>
    /// The payload RESTORE takes, made from the RDB's own bytes: the type, the value as stored, the RDB
    /// version (2 bytes, little-endian) and the CRC-64 of all that (8 bytes, little-endian). Nothing is
    /// decoded and encoded again. Null when the value was not kept.
    /// </summary>
    public byte[]? DumpPayload()
    {
        if (Value is null)
        {
            return null;
        }

        var payload = new byte[1 + Value.Length + 2 + 8];
        payload[0] = TypeByte;
        Value.CopyTo(payload, 1);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(1 + Value.Length), (ushort)RdbVersion);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(3 + Value.Length), Crc64Jones.Compute(payload.AsSpan(0, 3 + Value.Length)));
        return payload;
    }
}

/// <summary>What a whole RDB said about itself: version, aux fields, keys per database, and its checksum.</summary>
public sealed class RdbSummary
{
    public int Version { get; set; }

    /// <summary>The aux fields (redis-ver, ctime, used-mem, repl-id, repl-offset, aof-base, …).</summary>
    public SortedDictionary<string, string> Aux { get; } = new(StringComparer.Ordinal);

    public SortedDictionary<int, long> KeysPerDatabase { get; } = new();

    public SortedDictionary<int, long> ExpiresPerDatabase { get; } = new();

    public long Keys => KeysPerDatabase.Values.Sum();

    /// <summary>The CRC-64 stored in the trailer; 0 means the server does not checksum (rdbchecksum no).</summary>
    public ulong Checksum { get; set; }

    /// <summary>True when a non-zero stored checksum equals the one computed; false when the server wrote none.</summary>
    public bool ChecksumVerified { get; set; }

    public int Functions { get; set; }

    public int ModuleAux { get; set; }

    /// <summary>Every byte of the file, trailer included.</summary>
    public long Bytes { get; set; }
}
