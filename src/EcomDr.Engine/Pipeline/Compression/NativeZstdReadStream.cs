using System.Buffers;
using EcomDr.Engine.Pipeline.IO;

namespace EcomDr.Engine.Pipeline.Compression;

/// <summary>zstd decompression through libzstd's streaming API; concatenated frames read as one stream.</summary>
internal sealed class NativeZstdReadStream : ReadOnlyStream
{
    private const int InputSize = 128 << 10;
    private readonly Stream _inner;
    private readonly NativeZstd.Api _api = NativeZstd.Functions;
    private readonly byte[] _input = ArrayPool<byte>.Shared.Rent(InputSize);
    private nint _context;
    private int _start;
    private int _end;
    private bool _innerDone;
    private bool _frameOpen;

    public unsafe NativeZstdReadStream(Stream inner)
    {
        _inner = inner;
        _context = _api.CreateDCtx();
        if (_context == 0)
        {
            throw new OutOfMemoryException("libzstd could not create a decompression context.");
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_context == 0, this);
        if (buffer.Length == 0)
        {
            return 0;
        }

        while (true)
        {
            if (_start < _end || _frameOpen)
            {
                var produced = Step(buffer.Span);
                if (produced > 0)
                {
                    return produced;
                }
            }

            if (_start == _end)
            {
                if (_innerDone)
                {
                    if (_frameOpen)
                    {
                        throw new InvalidDataException("zstd: the compressed stream ends inside a frame (truncated).");
                    }

                    return 0;
                }

                _start = 0;
                _end = await _inner.ReadAsync(_input.AsMemory(0, InputSize), cancellationToken).ConfigureAwait(false);
                _innerDone = _end == 0;
            }
        }
    }

    protected override unsafe void Dispose(bool disposing)
    {
        if (_context != 0)
        {
            _api.FreeDCtx(_context);
            _context = 0;
            ArrayPool<byte>.Shared.Return(_input);
            if (disposing)
            {
                _inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        var inner = _inner;
        Dispose(false);
        await inner.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    private unsafe int Step(Span<byte> destination)
    {
        fixed (byte* source = _input)
        fixed (byte* target = destination)
        {
            var inBuffer = new NativeZstd.InBuffer { Source = source, Size = (nuint)_end, Position = (nuint)_start };
            var outBuffer = new NativeZstd.OutBuffer { Destination = target, Size = (nuint)destination.Length, Position = 0 };
            var hint = _api.Check(_api.DecompressStream(_context, &outBuffer, &inBuffer));
            _start = (int)inBuffer.Position;
            // 0 means a frame was completely decoded and flushed; anything else, it is still open.
            _frameOpen = hint != 0;
            return (int)outBuffer.Position;
        }
    }
}
