using System.Buffers;
using System.Security.Cryptography;
using System.Threading.Channels;

namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>
/// The same framed AES-256-GCM as <see cref="EncryptingStream"/>, byte for byte, with the encryption
/// and everything below it (the stored bytes' hash, the upload) on a task of its own: the writer only
/// fills plaintext frames and hands them over through a short queue. On incompressible data the
/// pipeline is CPU-bound, and this spreads it over two cores (docs/benchmarks.md, "Artifact pipeline").
/// Like the plain stream, the final frame is written only by <see cref="CompleteAsync"/>.
/// </summary>
public sealed class PipelinedEncryptingStream : IO.WriteOnlyStream
{
    /// <summary>Frames queued between the writer and the encrypting task: memory is this many frames, plus one being filled and one being encrypted.</summary>
    private const int QueuedFrames = 2;

    private readonly Stream _inner;
    private readonly AesGcm _aes;
    private readonly byte[] _header = new byte[FrameFormat.HeaderSize];
    private readonly int _frameSize;
    private readonly Channel<(byte[] Plain, int Length, bool Final)> _frames;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sealer;
    private byte[] _plain;
    private int _filled;
    private bool _completed;
    private bool _disposed;

    public PipelinedEncryptingStream(Stream inner, ReadOnlySpan<byte> dataKey, int frameSize = FrameFormat.DefaultFrameSize)
    {
        if (frameSize < FrameFormat.MinFrameSize || frameSize > FrameFormat.MaxFrameSize)
        {
            throw new ArgumentOutOfRangeException(nameof(frameSize));
        }

        _inner = inner;
        _frameSize = frameSize;
        _aes = new AesGcm(dataKey, FrameFormat.TagSize);
        new FrameFormat.Header(frameSize, RandomNumberGenerator.GetBytes(16)).Write(_header);
        _plain = ArrayPool<byte>.Shared.Rent(frameSize);
        _frames = Channel.CreateBounded<(byte[], int, bool)>(new BoundedChannelOptions(QueuedFrames) { SingleReader = true, SingleWriter = true });
        _sealer = Task.Run(SealAsync);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_completed || _disposed, this);
        while (buffer.Length > 0)
        {
            // A full buffer is handed over only when more data arrives, so the last frame is never full.
            if (_filled == _frameSize)
            {
                await HandOverAsync(final: false, cancellationToken).ConfigureAwait(false);
            }

            var take = Math.Min(buffer.Length, _frameSize - _filled);
            buffer.Span[..take].CopyTo(_plain.AsSpan(_filled));
            _filled += take;
            buffer = buffer[take..];
        }
    }

    /// <summary>Hands over the final frame, waits until everything is encrypted and written, and flushes.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (_filled == _frameSize)
        {
            await HandOverAsync(final: false, cancellationToken).ConfigureAwait(false);
        }

        await HandOverAsync(final: true, cancellationToken).ConfigureAwait(false);
        _frames.Writer.Complete();
        await _sealer.ConfigureAwait(false);
        await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        _completed = true;
    }

    private async Task HandOverAsync(bool final, CancellationToken cancellationToken)
    {
        try
        {
            await _frames.Writer.WriteAsync((_plain, _filled, final), cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // The encrypting task stopped: its own failure says why.
            await _sealer.ConfigureAwait(false);
            throw;
        }

        _plain = ArrayPool<byte>.Shared.Rent(_frameSize);
        _filled = 0;
    }

    private async Task SealAsync()
    {
        var cipher = ArrayPool<byte>.Shared.Rent(_frameSize + FrameFormat.TagSize);
        var nonce = new byte[FrameFormat.NonceSize];
        var aad = new byte[FrameFormat.AadSize];
        long index = 0;
        try
        {
            await _inner.WriteAsync(_header, _stop.Token).ConfigureAwait(false);
            await foreach (var (plain, length, final) in _frames.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    EncryptingStream.Seal(_aes, _header, index++, final, plain.AsSpan(0, length), cipher, nonce, aad);
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(plain.AsSpan(0, length));
                    ArrayPool<byte>.Shared.Return(plain);
                }

                await _inner.WriteAsync(cipher.AsMemory(0, length + FrameFormat.TagSize), _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            _frames.Writer.TryComplete(ex);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(cipher);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _frames.Writer.TryComplete();
            _stop.Cancel();
            try
            {
                _sealer.GetAwaiter().GetResult();
            }
            catch (Exception)
            {
                // Torn down without completing (the reader rejects what was written as truncated); a failure
                // of the encrypting task was reported by the write or the completion that met it.
            }

            while (_frames.Reader.TryRead(out var left))
            {
                ArrayPool<byte>.Shared.Return(left.Plain);
            }

            CryptographicOperations.ZeroMemory(_plain);
            ArrayPool<byte>.Shared.Return(_plain);
            _aes.Dispose();
            _stop.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _frames.Writer.TryComplete();
            _stop.Cancel();
            try
            {
                await _sealer.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // as in Dispose
            }
        }

        Dispose(true);
        GC.SuppressFinalize(this);
    }
}
