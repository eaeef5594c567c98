using System.Security.Cryptography;

namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>
/// What both encrypting streams share: the file header, and collecting what is written into plaintext
/// frames of FrameSize. A full frame goes out only when more data arrives, so the last frame is never
/// full; the final frame goes out only by <see cref="CompleteAsync"/>, so a writer that fails or is
/// cancelled leaves ciphertext every reader rejects as truncated (<see cref="FrameFormat"/>).
/// </summary>
public abstract class FramingStream : IO.WriteOnlyStream
{
    protected FramingStream(int frameSize)
    {
        if (frameSize < FrameFormat.MinFrameSize || frameSize > FrameFormat.MaxFrameSize)
        {
            throw new ArgumentOutOfRangeException(nameof(frameSize));
        }

        FrameSize = frameSize;
        new FrameFormat.Header(frameSize, RandomNumberGenerator.GetBytes(16)).Write(Header);
    }

    protected int FrameSize { get; }

    protected byte[] Header { get; } = new byte[FrameFormat.HeaderSize];

    /// <summary>The frame being filled, and how much of it is.</summary>
    protected byte[] Frame { get; set; } = Array.Empty<byte>();

    protected int Filled { get; set; }

    protected bool Completed { get; private set; }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Completed, this);
        while (buffer.Length > 0)
        {
            if (Filled == FrameSize)
            {
                await EmitAsync(final: false, cancellationToken).ConfigureAwait(false);
            }

            var take = Math.Min(buffer.Length, FrameSize - Filled);
            buffer.Span[..take].CopyTo(Frame.AsSpan(Filled));
            Filled += take;
            buffer = buffer[take..];
        }
    }

    /// <summary>Writes the final frame (fewer than FrameSize plaintext bytes, possibly none), then everything below.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (Filled == FrameSize)
        {
            await EmitAsync(final: false, cancellationToken).ConfigureAwait(false);
        }

        await EmitAsync(final: true, cancellationToken).ConfigureAwait(false);
        await FinishAsync(cancellationToken).ConfigureAwait(false);
        Completed = true;
    }

    public override void Flush()
    {
        // Frames are written whole; flushing mid-frame would change the layout.
    }

    /// <summary>Sends Frame[0..Filled) on as frame <paramref name="final"/> or not, and starts an empty frame.</summary>
    protected abstract Task EmitAsync(bool final, CancellationToken cancellationToken);

    /// <summary>After the final frame: everything emitted is written and flushed.</summary>
    protected abstract Task FinishAsync(CancellationToken cancellationToken);

    /// <summary>Encrypts one frame: its ciphertext, then its tag, into <paramref name="cipher"/>.</summary>
    protected static void Seal(AesGcm aes, byte[] header, long index, bool final, ReadOnlySpan<byte> plain, Span<byte> cipher, byte[] nonce, byte[] aad)
    {
        FrameFormat.Nonce(index, nonce);
        FrameFormat.Aad(header, index, final, aad);
        aes.Encrypt(nonce, plain, cipher[..plain.Length], cipher.Slice(plain.Length, FrameFormat.TagSize), aad);
    }
}
