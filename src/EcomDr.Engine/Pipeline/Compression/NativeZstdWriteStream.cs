using System.Buffers;
using EcomDr.Engine.Pipeline.IO;

namespace EcomDr.Engine.Pipeline.Compression;

/// <summary>zstd compression through libzstd's streaming API, writing whole zstd frames to the inner stream.</summary>
internal sealed class NativeZstdWriteStream : WriteOnlyStream
{
    private const int OutputSize = 128 << 10;
    private readonly Stream _inner;
    private readonly NativeZstd.Api _api = NativeZstd.Functions;
    private readonly byte[] _output = ArrayPool<byte>.Shared.Rent(OutputSize);
    private nint _context;
    private bool _ended;

    public unsafe NativeZstdWriteStream(Stream inner, int level, int workers)
    {
        _inner = inner;
        _context = _api.CreateCCtx();
        if (_context == 0)
        {
            throw new OutOfMemoryException("libzstd could not create a compression context.");
        }

        _api.Check(_api.SetParameter(_context, NativeZstd.CompressionLevelParameter, level));
        if (workers > 0)
        {
            // A libzstd built without threads refuses workers; it then compresses on this thread.
            _api.SetParameter(_context, NativeZstd.WorkersParameter, workers);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_context == 0 || _ended, this);
        var consumed = 0;
        while (consumed < buffer.Length)
        {
            var produced = Step(buffer.Span, ref consumed, NativeZstd.Continue, out _);
            if (produced > 0)
            {
                await _inner.WriteAsync(_output.AsMemory(0, produced), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            if (_context != 0 && !_ended)
            {
                _ended = true;
                var none = 0;
                bool more;
                do
                {
                    var produced = Step(ReadOnlySpan<byte>.Empty, ref none, NativeZstd.End, out more);
                    await _inner.WriteAsync(_output.AsMemory(0, produced)).ConfigureAwait(false);
                }
                while (more);
            }
        }
        finally
        {
            Release();
        }
    }

    protected override unsafe void Dispose(bool disposing)
    {
        // Synchronous disposal abandons the frame (as after a failure); DisposeAsync completes it.
        Release();
        base.Dispose(disposing);
    }

    private unsafe int Step(ReadOnlySpan<byte> input, ref int consumed, int directive, out bool more)
    {
        fixed (byte* source = input)
        fixed (byte* destination = _output)
        {
            var inBuffer = new NativeZstd.InBuffer { Source = source, Size = (nuint)input.Length, Position = (nuint)consumed };
            var outBuffer = new NativeZstd.OutBuffer { Destination = destination, Size = OutputSize, Position = 0 };
            var remaining = _api.Check(_api.CompressStream2(_context, &outBuffer, &inBuffer, directive));
            consumed = (int)inBuffer.Position;
            more = remaining != 0;
            return (int)outBuffer.Position;
        }
    }

    private unsafe void Release()
    {
        if (_context != 0)
        {
            _api.FreeCCtx(_context);
            _context = 0;
            ArrayPool<byte>.Shared.Return(_output);
        }
    }
}
