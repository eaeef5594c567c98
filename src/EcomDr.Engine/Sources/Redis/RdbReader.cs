using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Sources.Redis;

/// <summary>
/// Reads an RDB file (versions 1 to 12) as it streams, never holding it whole: every opcode, key and
/// value is walked, values skipped by their stated sizes, so the file is checked from its magic to its
/// end and its trailing CRC-64 (docs/format.md, "Redis snapshots"). Each byte read from the source is
/// handed to <c>sink</c> as it arrives (the backup pipeline), and each key to <c>onKey</c>. A file that
/// is cut short, damaged, or newer than version 12 is an error naming the offset; nothing after the
/// trailer is accepted.
/// </summary>
public sealed class RdbReader
{
    public const int MaxVersion = 12;
    private const int MaxCountedBlob = 16 << 20;
    private readonly Func<Memory<byte>, CancellationToken, ValueTask<int>> _source;
    private readonly Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>? _sink;
    private readonly byte[] _buffer = new byte[1 << 16];
    private readonly Crc64Jones _crc = new();
    private readonly string _where;
    private MemoryStream? _capture;
    private int _pos;
    private int _end;
    private int _crcFrom;
    private bool _crcOn = true;
    private long _consumedBefore;

    public RdbReader(Func<Memory<byte>, CancellationToken, ValueTask<int>> source, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>? sink, string where)
    {
        CaptureLimit = 512 << 20;
        _source = source;
        _sink = sink;
        _where = where;
    }

    /// <summary>
    /// Which keys' values to keep as the RDB stores them (database, key): their bytes come with the key
    /// (<see cref="RdbKey.Value"/>), for a DUMP payload. Null: none.
    /// </summary>
    public Func<int, byte[], bool>? CaptureValue { get; init; }

    /// <summary>The largest value kept (Redis's own proto-max-bulk-len default); a larger one comes without its bytes.</summary>
    public int CaptureLimit { get; init; }

    /// <summary>Bytes consumed so far.</summary>
    public long Offset => _consumedBefore + _pos;

    public static RdbReader Over(Stream stream, string where) => new((m, ct) => stream.ReadAsync(m, ct), null, where);

    public async Task<RdbSummary> ReadAsync(Func<RdbKey, CancellationToken, ValueTask>? onKey, CancellationToken ct)
    {
        var summary = new RdbSummary();
        var header = new byte[9];
        await ReadExactAsync(header, ct).ConfigureAwait(false);
        if (!header.AsSpan(0, 5).SequenceEqual("REDIS"u8) || !int.TryParse(Encoding.ASCII.GetString(header, 5, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            throw Invalid("does not start with the RDB magic REDIS and a 4-digit version");
        }

        if (version < 1 || version > MaxVersion)
        {
            throw new EcomDrException(ErrorIds.RdbUnsupported, FailureKind.InvalidData,
                $"{_where} is RDB version {version}; this EcomDr reads versions 1 to {MaxVersion} (Redis up to 7.4).", _where);
        }

        summary.Version = version;
        var db = 0;
        DateTimeOffset? expires = null;
        while (true)
        {
            var type = await ReadByteAsync(ct).ConfigureAwait(false);
            switch (type)
            {
                case 0xFF:
                    await TrailerAsync(summary, ct).ConfigureAwait(false);
                    return summary;
                case 0xFE:
                    db = checked((int)await ReadLengthAsync(ct).ConfigureAwait(false));
                    break;
                case 0xFD:
                    expires = DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadUInt32LittleEndian(await ReadBytesAsync(4, ct).ConfigureAwait(false)));
                    break;
                case 0xFC:
                    expires = DateTimeOffset.FromUnixTimeMilliseconds(Math.Min(BinaryPrimitives.ReadInt64LittleEndian(await ReadBytesAsync(8, ct).ConfigureAwait(false)), 253402300799999));
                    break;
                case 0xFB:
                    await SkipLengthAsync(ct).ConfigureAwait(false);
                    await SkipLengthAsync(ct).ConfigureAwait(false);
                    break;
                case 0xFA:
                    var name = Encoding.UTF8.GetString(await ReadStringAsync(ct).ConfigureAwait(false));
                    summary.Aux[name] = Encoding.UTF8.GetString(await ReadStringAsync(ct).ConfigureAwait(false));
                    break;
                case 0xF9:
                    await ReadByteAsync(ct).ConfigureAwait(false);
                    break;
                case 0xF8:
                    await SkipLengthAsync(ct).ConfigureAwait(false);
                    break;
                case 0xF7:
                    await ReadModuleIdAsync(ct).ConfigureAwait(false);
                    if (await ReadLengthAsync(ct).ConfigureAwait(false) != 2)
                    {
                        throw Invalid("has module aux data without its 'when' field");
                    }

                    await SkipLengthAsync(ct).ConfigureAwait(false);
                    await SkipModuleValueAsync(ct).ConfigureAwait(false);
                    summary.ModuleAux++;
                    break;
                case 0xF5:
                    await SkipStringAsync(ct).ConfigureAwait(false);
                    summary.Functions++;
                    break;
                case 0xF4:
                    for (var i = 0; i < 3; i++)
                    {
                        await SkipLengthAsync(ct).ConfigureAwait(false);
                    }

                    break;
                default:
                    var key = await ReadStringAsync(ct).ConfigureAwait(false);
                    var start = Offset;
                    _capture = CaptureValue?.Invoke(db, key) == true ? new MemoryStream() : null;
                    var (kind, encoding, length) = await SkipValueAsync(type, ct).ConfigureAwait(false);
                    var value = _capture is { } captured && captured.Length <= CaptureLimit ? captured.ToArray() : null;
                    _capture = null;
                    summary.KeysPerDatabase[db] = summary.KeysPerDatabase.GetValueOrDefault(db) + 1;
                    if (expires is not null)
                    {
                        summary.ExpiresPerDatabase[db] = summary.ExpiresPerDatabase.GetValueOrDefault(db) + 1;
                    }

                    if (onKey is not null)
                    {
                        var ttl = expires is { } at && summary.Aux.TryGetValue("ctime", out var ctime) && long.TryParse(ctime, out var seconds)
                            ? at - DateTimeOffset.FromUnixTimeSeconds(seconds) : (TimeSpan?)null;
                        await onKey(new RdbKey(db, key, kind, encoding, expires, Offset - start, length) { Ttl = ttl, TypeByte = type, Value = value, RdbVersion = version }, ct)
                            .ConfigureAwait(false);
                    }

                    expires = null;
                    break;
            }
        }
    }

    private async Task<(string Type, string Encoding, long? Length)> SkipValueAsync(byte type, CancellationToken ct)
    {
        switch (type)
        {
            case 0:
                return ("string", "string", await SkipStringAsync(ct).ConfigureAwait(false));
            case 1:
            case 2:
            {
                var n = await ReadLengthAsync(ct).ConfigureAwait(false);
                for (var i = 0L; i < n; i++)
                {
                    await SkipStringAsync(ct).ConfigureAwait(false);
                }

                return (type == 1 ? "list" : "set", type == 1 ? "linkedlist" : "hashtable", n);
            }

            case 3:
            case 5:
            {
                var n = await ReadLengthAsync(ct).ConfigureAwait(false);
                for (var i = 0L; i < n; i++)
                {
                    await SkipStringAsync(ct).ConfigureAwait(false);
                    if (type == 5)
                    {
                        await SkipAsync(8, ct).ConfigureAwait(false);
                    }
                    else
                    {
                        var len = await ReadByteAsync(ct).ConfigureAwait(false);
                        await SkipAsync(len >= 253 ? 0 : len, ct).ConfigureAwait(false);
                    }
                }

                return ("zset", "skiplist", n);
            }

            case 4:
            {
                var n = await ReadLengthAsync(ct).ConfigureAwait(false);
                for (var i = 0L; i < 2 * n; i++)
                {
                    await SkipStringAsync(ct).ConfigureAwait(false);
                }

                return ("hash", "hashtable", n);
            }

            case 7:
                await ReadModuleIdAsync(ct).ConfigureAwait(false);
                await SkipModuleValueAsync(ct).ConfigureAwait(false);
                return ("module", "module", null);
            case 9:
                return ("hash", "zipmap", await BlobCountAsync(Zipmap, ct).ConfigureAwait(false));
            case 10:
                return ("list", "ziplist", await BlobCountAsync(Ziplist, ct).ConfigureAwait(false));
            case 11:
                return ("set", "intset", await BlobCountAsync(Intset, ct).ConfigureAwait(false));
            case 12:
                return ("zset", "ziplist", Half(await BlobCountAsync(Ziplist, ct).ConfigureAwait(false)));
            case 13:
                return ("hash", "ziplist", Half(await BlobCountAsync(Ziplist, ct).ConfigureAwait(false)));
            case 16:
                return ("hash", "listpack", Half(await BlobCountAsync(Listpack, ct).ConfigureAwait(false)));
            case 17:
                return ("zset", "listpack", Half(await BlobCountAsync(Listpack, ct).ConfigureAwait(false)));
            case 20:
                return ("set", "listpack", await BlobCountAsync(Listpack, ct).ConfigureAwait(false));
            case 14:
            case 18:
            {
                var nodes = await ReadLengthAsync(ct).ConfigureAwait(false);
                long? total = 0;
                for (var i = 0L; i < nodes; i++)
                {
                    // A quicklist 2 node is PLAIN (1: one big element) or PACKED (2: a listpack).
                    long? count = 1;
                    if (type == 18 && await ReadLengthAsync(ct).ConfigureAwait(false) == 1)
                    {
                        await SkipStringAsync(ct).ConfigureAwait(false);
                    }
                    else
                    {
                        count = await BlobCountAsync(type == 14 ? Ziplist : Listpack, ct).ConfigureAwait(false);
                    }

                    total = total is null || count is null ? null : total + count;
                }

                return ("list", "quicklist", total);
            }

            case 15:
            case 19:
            case 21:
                return ("stream", "stream", await SkipStreamAsync(type, ct).ConfigureAwait(false));
            case 22:
            case 24:
            {
                if (type == 24)
                {
                    await SkipAsync(8, ct).ConfigureAwait(false); // the smallest field expiry
                }

                var n = await ReadLengthAsync(ct).ConfigureAwait(false);
                for (var i = 0L; i < n; i++)
                {
                    await SkipLengthAsync(ct).ConfigureAwait(false); // the field's TTL
                    await SkipStringAsync(ct).ConfigureAwait(false);
                    await SkipStringAsync(ct).ConfigureAwait(false);
                }

                return ("hash", "hashtable-ex", n);
            }

            case 23:
            case 25:
                if (type == 25)
                {
                    await SkipAsync(8, ct).ConfigureAwait(false);
                }

                // Triplets: field, value, expiry.
                return ("hash", "listpack-ex", await BlobCountAsync(Listpack, ct).ConfigureAwait(false) is { } c ? c / 3 : null);
            default:
                throw Invalid($"has a value of unknown type {type} (opcode or type byte) at offset {Offset - 1}");
        }
    }

    private async Task<long?> SkipStreamAsync(byte type, CancellationToken ct)
    {
        var listpacks = await ReadLengthAsync(ct).ConfigureAwait(false);
        for (var i = 0L; i < listpacks; i++)
        {
            await SkipStringAsync(ct).ConfigureAwait(false); // the node's master id
            await SkipStringAsync(ct).ConfigureAwait(false); // its listpack
        }

        var length = await ReadLengthAsync(ct).ConfigureAwait(false);
        await SkipLengthAsync(ct).ConfigureAwait(false); // last id
        await SkipLengthAsync(ct).ConfigureAwait(false);
        if (type >= 19)
        {
            for (var i = 0; i < 5; i++)
            {
                await SkipLengthAsync(ct).ConfigureAwait(false); // first id, max deleted id, entries added
            }
        }

        var groups = await ReadLengthAsync(ct).ConfigureAwait(false);
        for (var g = 0L; g < groups; g++)
        {
            await SkipStringAsync(ct).ConfigureAwait(false); // name
            await SkipLengthAsync(ct).ConfigureAwait(false); // last delivered id
            await SkipLengthAsync(ct).ConfigureAwait(false);
            if (type >= 19)
            {
                await SkipLengthAsync(ct).ConfigureAwait(false); // entries read
            }

            var pending = await ReadLengthAsync(ct).ConfigureAwait(false);
            for (var p = 0L; p < pending; p++)
            {
                await SkipAsync(16 + 8, ct).ConfigureAwait(false); // id, delivery time
                await SkipLengthAsync(ct).ConfigureAwait(false);   // delivery count
            }

            var consumers = await ReadLengthAsync(ct).ConfigureAwait(false);
            for (var c = 0L; c < consumers; c++)
            {
                await SkipStringAsync(ct).ConfigureAwait(false);
                await SkipAsync(type >= 21 ? 16 : 8, ct).ConfigureAwait(false); // seen time (and active time)
                var owned = await ReadLengthAsync(ct).ConfigureAwait(false);
                await SkipAsync(owned * 16, ct).ConfigureAwait(false);
            }
        }

        return length;
    }

    // A module's id fills all 64 bits (its name in 9 six-bit characters, then a 10-bit version).
    private async Task ReadModuleIdAsync(CancellationToken ct)
    {
        if ((await ReadLengthEncodedAsync(ct).ConfigureAwait(false)).Encoded)
        {
            throw Invalid($"has an encoded value where a module id belongs at offset {Offset}");
        }
    }

    private async Task SkipModuleValueAsync(CancellationToken ct)
    {
        while (true)
        {
            switch (await ReadLengthAsync(ct).ConfigureAwait(false))
            {
                case 0:
                    return;
                case 1:
                case 2:
                    await SkipLengthAsync(ct).ConfigureAwait(false);
                    break;
                case 3:
                    await SkipAsync(4, ct).ConfigureAwait(false);
                    break;
                case 4:
                    await SkipAsync(8, ct).ConfigureAwait(false);
                    break;
                case 5:
                    await SkipStringAsync(ct).ConfigureAwait(false);
                    break;
                default:
                    throw Invalid($"has a module value with an unknown opcode at offset {Offset}");
            }
        }
    }

    private static long? Half(long? n) => n / 2;

    // Element counts from the blob headers: ziplist zllen (0xFFFF: too many to say), listpack count (0xFFFF likewise), intset length, zipmap's first byte (254+: too many).
    private static long? Ziplist(ReadOnlySpan<byte> blob) => blob.Length >= 10 && BinaryPrimitives.ReadUInt16LittleEndian(blob[8..]) is var n && n != 0xFFFF ? n : null;

    private static long? Listpack(ReadOnlySpan<byte> blob) => blob.Length >= 6 && BinaryPrimitives.ReadUInt16LittleEndian(blob[4..]) is var n && n != 0xFFFF ? n : null;

    private static long? Intset(ReadOnlySpan<byte> blob) => blob.Length >= 8 ? BinaryPrimitives.ReadUInt32LittleEndian(blob[4..]) : null;

    private static long? Zipmap(ReadOnlySpan<byte> blob) => blob.Length >= 1 && blob[0] < 254 ? blob[0] : null;

    private delegate long? Counter(ReadOnlySpan<byte> blob);

    /// <summary>Skips a string holding an encoded blob, reading its header for the element count (LZF-compressed blobs up to 16 MiB are expanded for it).</summary>
    private async Task<long?> BlobCountAsync(Counter count, CancellationToken ct)
    {
        var (length, encoded) = await ReadLengthEncodedAsync(ct).ConfigureAwait(false);
        if (!encoded)
        {
            var head = await ReadBytesAsync((int)Math.Min(length, 16UL), ct).ConfigureAwait(false);
            await SkipAsync(length - (ulong)head.Length, ct).ConfigureAwait(false);
            return count(head);
        }

        if (length != 3)
        {
            await SkipEncodedIntAsync(length, ct).ConfigureAwait(false);
            return null;
        }

        var compressed = await ReadLengthAsync(ct).ConfigureAwait(false);
        var plain = await ReadLengthAsync(ct).ConfigureAwait(false);
        if (compressed > MaxCountedBlob || plain > MaxCountedBlob)
        {
            await SkipAsync(compressed, ct).ConfigureAwait(false);
            return null;
        }

        var input = await ReadBytesAsync((int)compressed, ct).ConfigureAwait(false);
        var output = new byte[(int)plain];
        return Lzf.TryDecompress(input, output) ? count(output) : throw Invalid($"has an LZF string that does not expand to its stated size before offset {Offset}");
    }

    /// <summary>Skips a string; returns its length in bytes (an integer-encoded one: its decimal digits).</summary>
    private async Task<long> SkipStringAsync(CancellationToken ct)
    {
        var (length, encoded) = await ReadLengthEncodedAsync(ct).ConfigureAwait(false);
        if (!encoded)
        {
            await SkipAsync(length, ct).ConfigureAwait(false);
            return (long)length;
        }

        if (length == 3)
        {
            var compressed = await ReadLengthAsync(ct).ConfigureAwait(false);
            var plain = await ReadLengthAsync(ct).ConfigureAwait(false);
            await SkipAsync(compressed, ct).ConfigureAwait(false);
            return plain;
        }

        return await SkipEncodedIntAsync(length, ct).ConfigureAwait(false);
    }

    private async Task<long> SkipEncodedIntAsync(ulong encoding, CancellationToken ct)
    {
        var bytes = encoding switch
        {
            0 => 1,
            1 => 2,
            2 => 4,
            _ => throw Invalid($"has a string of unknown encoding {encoding} at offset {Offset}"),
        };
        var value = await ReadBytesAsync(bytes, ct).ConfigureAwait(false);
        long n = bytes switch { 1 => (sbyte)value[0], 2 => BinaryPrimitives.ReadInt16LittleEndian(value), _ => BinaryPrimitives.ReadInt32LittleEndian(value) };
        return n.ToString(CultureInfo.InvariantCulture).Length;
    }

    /// <summary>A string's bytes (keys, aux fields): integers as their decimal text, LZF expanded.</summary>
    private async Task<byte[]> ReadStringAsync(CancellationToken ct)
    {
        var (length, encoded) = await ReadLengthEncodedAsync(ct).ConfigureAwait(false);
        if (!encoded)
        {
            return await ReadBytesAsync(checked((int)length), ct).ConfigureAwait(false);
        }

        switch (length)
        {
            case 0:
                return Encoding.ASCII.GetBytes(((sbyte)await ReadByteAsync(ct).ConfigureAwait(false)).ToString(CultureInfo.InvariantCulture));
            case 1:
                return Encoding.ASCII.GetBytes(BinaryPrimitives.ReadInt16LittleEndian(await ReadBytesAsync(2, ct).ConfigureAwait(false)).ToString(CultureInfo.InvariantCulture));
            case 2:
                return Encoding.ASCII.GetBytes(BinaryPrimitives.ReadInt32LittleEndian(await ReadBytesAsync(4, ct).ConfigureAwait(false)).ToString(CultureInfo.InvariantCulture));
            case 3:
                var compressed = checked((int)await ReadLengthAsync(ct).ConfigureAwait(false));
                var output = new byte[checked((int)await ReadLengthAsync(ct).ConfigureAwait(false))];
                var input = await ReadBytesAsync(compressed, ct).ConfigureAwait(false);
                return Lzf.TryDecompress(input, output) ? output : throw Invalid($"has an LZF string that does not expand to its stated size before offset {Offset}");
            default:
                throw Invalid($"has a string of unknown encoding {length} at offset {Offset}");
        }
    }

    /// <summary>Skips a length-encoded number that only matters to Redis (an id, a counter, a TTL): any 64-bit value, -1 stored as all ones included.</summary>
    private async Task SkipLengthAsync(CancellationToken ct)
    {
        if ((await ReadLengthEncodedAsync(ct).ConfigureAwait(false)).Encoded)
        {
            throw Invalid($"has an encoded value where a number belongs at offset {Offset}");
        }
    }

    private async Task<long> ReadLengthAsync(CancellationToken ct)
    {
        var (length, encoded) = await ReadLengthEncodedAsync(ct).ConfigureAwait(false);
        return encoded || length > long.MaxValue ? throw Invalid($"has an encoded value or an impossible size where a length belongs at offset {Offset}") : (long)length;
    }

    private async Task<(ulong Length, bool Encoded)> ReadLengthEncodedAsync(CancellationToken ct)
    {
        var first = await ReadByteAsync(ct).ConfigureAwait(false);
        switch (first >> 6)
        {
            case 0:
                return ((ulong)(first & 0x3F), false);
            case 1:
                return ((ulong)(((first & 0x3F) << 8) | await ReadByteAsync(ct).ConfigureAwait(false)), false);
            case 3:
                return ((ulong)(first & 0x3F), true);
            default:
                return first switch
                {
                    0x80 => (BinaryPrimitives.ReadUInt32BigEndian(await ReadBytesAsync(4, ct).ConfigureAwait(false)), false),
                    0x81 => (BinaryPrimitives.ReadUInt64BigEndian(await ReadBytesAsync(8, ct).ConfigureAwait(false)), false),
                    _ => throw Invalid($"has an unknown length encoding 0x{first:x2} at offset {Offset - 1}"),
                };
        }
    }

    private async Task TrailerAsync(RdbSummary summary, CancellationToken ct)
    {
        // The checksum covers every byte up to and including the EOF opcode.
        _crc.Append(_buffer.AsSpan(_crcFrom, _pos - _crcFrom));
        _crcOn = false;
        if (summary.Version >= 5)
        {
            summary.Checksum = BinaryPrimitives.ReadUInt64LittleEndian(await ReadBytesAsync(8, ct).ConfigureAwait(false));
            if (summary.Checksum != 0 && summary.Checksum != _crc.Value)
            {
                throw new EcomDrException(ErrorIds.RdbCorrupt, FailureKind.InvalidData,
                    $"{_where}: the RDB's CRC-64 is 0x{summary.Checksum:x16}, its bytes give 0x{_crc.Value:x16}: it was damaged.", _where);
            }

            summary.ChecksumVerified = summary.Checksum != 0;
        }

        if (_pos < _end || await FillAsync(ct).ConfigureAwait(false) > 0)
        {
            throw Invalid($"goes on after its end (the EOF opcode and checksum end at offset {Offset})");
        }

        summary.Bytes = Offset;
    }

    private async ValueTask<byte> ReadByteAsync(CancellationToken ct)
    {
        if (_pos == _end && await FillAsync(ct).ConfigureAwait(false) == 0)
        {
            throw Truncated();
        }

        _capture?.WriteByte(_buffer[_pos]);
        return _buffer[_pos++];
    }

    private async ValueTask<byte[]> ReadBytesAsync(int count, CancellationToken ct)
    {
        var bytes = new byte[count];
        await ReadExactAsync(bytes, ct).ConfigureAwait(false);
        return bytes;
    }

    private async ValueTask ReadExactAsync(Memory<byte> destination, CancellationToken ct)
    {
        while (destination.Length > 0)
        {
            if (_pos == _end && await FillAsync(ct).ConfigureAwait(false) == 0)
            {
                throw Truncated();
            }

            var n = Math.Min(destination.Length, _end - _pos);
            _buffer.AsMemory(_pos, n).CopyTo(destination);
            _capture?.Write(_buffer, _pos, n);
            _pos += n;
            destination = destination[n..];
        }
    }

    private async ValueTask SkipAsync(ulong count, CancellationToken ct)
    {
        while (count > 0)
        {
            if (_pos == _end && await FillAsync(ct).ConfigureAwait(false) == 0)
            {
                throw Truncated();
            }

            var n = (int)Math.Min(count, (ulong)(_end - _pos));
            _capture?.Write(_buffer, _pos, n);
            _pos += n;
            count -= (ulong)n;
        }
    }

    private ValueTask SkipAsync(long count, CancellationToken ct) => SkipAsync((ulong)Math.Max(0, count), ct);

    private async ValueTask<int> FillAsync(CancellationToken ct)
    {
        if (_crcOn)
        {
            _crc.Append(_buffer.AsSpan(_crcFrom, _pos - _crcFrom));
        }

        _consumedBefore += _pos;
        var n = await _source(_buffer, ct).ConfigureAwait(false);
        if (n > 0 && _sink is not null)
        {
            await _sink(_buffer.AsMemory(0, n), ct).ConfigureAwait(false);
        }

        (_pos, _end, _crcFrom) = (0, n, 0);
        return n;
    }

    private EcomDrException Truncated() =>
        new(ErrorIds.RdbCorrupt, FailureKind.InvalidData, $"{_where} ends at offset {Offset}, before the RDB's end: the transfer was cut short.", _where);

    private EcomDrException Invalid(string what) => new(ErrorIds.RdbCorrupt, FailureKind.InvalidData, $"{_where} {what}: not a valid RDB.", _where);
}
