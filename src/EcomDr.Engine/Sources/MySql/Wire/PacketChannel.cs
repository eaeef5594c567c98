using System.Buffers;
using System.Buffers.Binary;

namespace EcomDr.Engine.Sources.MySql.Wire;

/// <summary>
/// The MySQL packet layer: 3-byte length, 1-byte sequence id, payload; a payload of 16 MiB - 1 or
/// more continues in the next packet. Reads are buffered; a payload returned by ReadAsync stays
/// valid until the next read, so rows are parsed in place without copies.
/// </summary>
internal sealed class PacketChannel : IAsyncDisposable
{
    public const int MaxPayload = 0xFFFFFF;
    private const int BufferSize = 256 << 10;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private byte[]? _large;
    private int _start;
    private int _end;

    public PacketChannel(Stream stream) => Stream = stream;

    public Stream Stream { get; private set; }

    /// <summary>The sequence id the next packet carries; a command resets it to 0.</summary>
    public byte Sequence { get; set; }

    /// <summary>Switches to another stream over the same connection (TLS); nothing may be buffered.</summary>
    public void Replace(Stream stream)
    {
        if (_end != _start)
        {
            throw new InvalidDataException("The server sent data before the TLS handshake.");
        }

        Stream = stream;
    }

    /// <summary>
    /// The next payload when it is already buffered whole (the common case for rows): no async
    /// machinery per row. False means nothing was consumed; call ReadAsync.
    /// </summary>
    // Runs once per row: compiled optimized at once rather than after tiering, which a fresh process's
    // first backup waited for (docs/benchmarks.md, one large table).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public bool TryReadBuffered(out ReadOnlyMemory<byte> payload)
    {
        var available = _end - _start;
        if (available >= 4)
        {
            var length = _buffer[_start] | (_buffer[_start + 1] << 8) | (_buffer[_start + 2] << 16);
            if (length < MaxPayload && available - 4 >= length)
            {
                Sequence = (byte)(_buffer[_start + 3] + 1);
                payload = _buffer.AsMemory(_start + 4, length);
                _start += 4 + length;
                return true;
            }
        }

        payload = default;
        return false;
    }

    public async ValueTask<ReadOnlyMemory<byte>> ReadAsync(CancellationToken ct)
    {
        var length = await HeaderAsync(ct).ConfigureAwait(false);
        if (length < MaxPayload && length <= _buffer.Length)
        {
            await FillAsync(length, ct).ConfigureAwait(false);
            var payload = _buffer.AsMemory(_start, length);
            _start += length;
            return payload;
        }

        // A payload larger than the read buffer, or split over several packets: assemble it.
        var total = 0;
        while (true)
        {
            Grow(ref _large, total + length);
            await CopyOutAsync(_large.AsMemory(total, length), ct).ConfigureAwait(false);
            total += length;
            if (length < MaxPayload)
            {
                return _large.AsMemory(0, total);
            }

            length = await HeaderAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Writes one logical payload (split into packets as needed), then flushes.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> rest, CancellationToken ct)
    {
        var total = first.Length + rest.Length;
        if (total < SmallWrite)
        {
            // One send for the header and the payload: a command of three small writes costs three
            // segments on a NoDelay socket and wakes the server three times.
            var packet = ArrayPool<byte>.Shared.Rent(total + 4);
            try
            {
                BinaryPrimitives.WriteInt32LittleEndian(packet, total);
                packet[3] = Sequence++;
                first.Span.CopyTo(packet.AsSpan(4));
                rest.Span.CopyTo(packet.AsSpan(4 + first.Length));
                await Stream.WriteAsync(packet.AsMemory(0, total + 4), ct).ConfigureAwait(false);
                await Stream.FlushAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(packet);
            }

            return;
        }

        var offset = 0;
        var header = new byte[4];
        do
        {
            var length = Math.Min(MaxPayload, total - offset);
            BinaryPrimitives.WriteInt32LittleEndian(header, length);
            header[3] = Sequence++;
            await Stream.WriteAsync(header, ct).ConfigureAwait(false);
            await WriteRangeAsync(first, rest, offset, length, ct).ConfigureAwait(false);
            offset += length;
            // A payload of exactly n * MaxPayload ends with an empty packet.
            if (length == MaxPayload && offset == total)
            {
                BinaryPrimitives.WriteInt32LittleEndian(header, 0);
                header[3] = Sequence++;
                await Stream.WriteAsync(header, ct).ConfigureAwait(false);
            }
        }
        while (offset < total);

        await Stream.FlushAsync(ct).ConfigureAwait(false);
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> payload, CancellationToken ct) => WriteAsync(payload, ReadOnlyMemory<byte>.Empty, ct);

    /// <summary>Payloads below this go out in one write with their header.</summary>
    private const int SmallWrite = 256 << 10;

    public async ValueTask DisposeAsync()
    {
        await Stream.DisposeAsync().ConfigureAwait(false);
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = Array.Empty<byte>();
        }

        if (_large is not null)
        {
            ArrayPool<byte>.Shared.Return(_large);
            _large = null;
        }
    }

    private async ValueTask WriteRangeAsync(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> rest, int offset, int length, CancellationToken ct)
    {
        if (offset < first.Length)
        {
            var n = Math.Min(length, first.Length - offset);
            await Stream.WriteAsync(first.Slice(offset, n), ct).ConfigureAwait(false);
            offset += n;
            length -= n;
        }

        if (length > 0)
        {
            await Stream.WriteAsync(rest.Slice(offset - first.Length, length), ct).ConfigureAwait(false);
        }
    }

    private async ValueTask<int> HeaderAsync(CancellationToken ct)
    {
        await FillAsync(4, ct).ConfigureAwait(false);
        var length = _buffer[_start] | (_buffer[_start + 1] << 8) | (_buffer[_start + 2] << 16);
        Sequence = (byte)(_buffer[_start + 3] + 1);
        _start += 4;
        return length;
    }

    /// <summary>Makes at least <paramref name="count"/> bytes available at _start (count fits the buffer).</summary>
    private async ValueTask FillAsync(int count, CancellationToken ct)
    {
        if (_end - _start >= count)
        {
            return;
        }

        if (_buffer.Length - _start < count)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        while (_end - _start < count)
        {
            var n = await Stream.ReadAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
            if (n == 0)
            {
                throw new EndOfStreamException("The server closed the connection.");
            }

            _end += n;
        }
    }

    private async ValueTask CopyOutAsync(Memory<byte> destination, CancellationToken ct)
    {
        var buffered = Math.Min(_end - _start, destination.Length);
        _buffer.AsMemory(_start, buffered).CopyTo(destination);
        _start += buffered;
        destination = destination[buffered..];
        while (destination.Length > 0)
        {
            var n = await Stream.ReadAsync(destination, ct).ConfigureAwait(false);
            if (n == 0)
            {
                throw new EndOfStreamException("The server closed the connection.");
            }

            destination = destination[n..];
        }
    }

    private static void Grow(ref byte[]? array, int size)
    {
        if (array is not null && array.Length >= size)
        {
            return;
        }

        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(size, (array?.Length ?? 0) * 2));
        if (array is not null)
        {
            Buffer.BlockCopy(array, 0, bigger, 0, array.Length);
            ArrayPool<byte>.Shared.Return(array);
        }

        array = bigger;
    }
}
