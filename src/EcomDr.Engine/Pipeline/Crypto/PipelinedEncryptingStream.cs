using System.Buffers;
using System.Security.Cryptography;
using System.Threading.Channels;

namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>
/// The same framed AES-256-GCM as <see cref="EncryptingStream"/>, byte for byte, with the encryption
/// and everything below it (the stored bytes' hash, the upload) on a task of its own: the writer only
/// fills plaintext frames and hands them over through a short queue. On incompressible data the
/// pipeline is CPU-bound, and this spreads it over two cores (docs/benchmarks.md, "Artifact pipeline").
/// </summary>
public sealed class PipelinedEncryptingStream : FramingStream
{
    /// <summary>Frames queued between the writer and the encrypting task: memory is this many frames, plus one being filled and one being encrypted.</summary>
    private const int QueuedFrames = 2;

    private readonly Stream _inner;
    private readonly AesGcm _aes;
    private readonly Channel<(byte[] Plain, int Length, bool Final)> _frames;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sealer;
    private bool _disposed;

    public PipelinedEncryptingStream(Stream inner, ReadOnlySpan<byte> dataKey, int frameSize = FrameFormat.DefaultFrameSize)
        : base(frameSize)
    {
        _inner = inner;
        _aes = new AesGcm(dataKey, FrameFormat.TagSize);
        Frame = ArrayPool<byte>.Shared.Rent(frameSize);
        _frames = Channel.CreateBounded<(byte[], int, bool)>(new BoundedChannelOptions(QueuedFrames) { SingleReader = true, SingleWriter = true });
        _sealer = Task.Run(SealAsync);
    }

    protected override async Task EmitAsync(bool final, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            await _frames.Writer.WriteAsync((Frame, Filled, final), cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // The encrypting task stopped: its own failure says why.
            await _sealer.ConfigureAwait(false);
            throw;
        }

        Frame = ArrayPool<byte>.Shared.Rent(FrameSize);
        Filled = 0;
    }

    /// <summary>Waits until everything handed over is encrypted and written, and flushes.</summary>
    protected override async Task FinishAsync(CancellationToken cancellationToken)
    {
        _frames.Writer.Complete();
        await _sealer.ConfigureAwait(false);
        await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task SealAsync()
    {
        var cipher = ArrayPool<byte>.Shared.Rent(FrameSize + FrameFormat.TagSize);
        var nonce = new byte[FrameFormat.NonceSize];
        var aad = new byte[FrameFormat.AadSize];
        long index = 0;
        try
        {
            await _inner.WriteAsync(Header, _stop.Token).ConfigureAwait(false);
            await foreach (var (plain, length, final) in _frames.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    Seal(_aes, Header, index++, final, plain.AsSpan(0, length), cipher, nonce, aad);
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

            CryptographicOperations.ZeroMemory(Frame);
            ArrayPool<byte>.Shared.Return(Frame);
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
