using System.Security.Cryptography;

namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>
/// Write-only stream that encrypts what is written into framed AES-256-GCM (see <see cref="FrameFormat"/>).
/// The final frame is written only by <see cref="CompleteAsync"/>: a writer that fails or is cancelled
/// leaves ciphertext without a final frame, which every reader rejects as truncated.
/// </summary>
public sealed class EncryptingStream : IO.WriteOnlyStream
{
    private readonly Stream _inner;
    private readonly AesGcm _aes;
    private readonly byte[] _header = new byte[FrameFormat.HeaderSize];
    private readonly byte[] _plain;
    private readonly byte[] _cipher;
    private readonly byte[] _nonce = new byte[FrameFormat.NonceSize];
    private readonly byte[] _aad = new byte[FrameFormat.AadSize];
    private readonly int _frameSize;
    private int _filled;
    private long _index;
    private bool _headerWritten;
    private bool _completed;

    public EncryptingStream(Stream inner, ReadOnlySpan<byte> dataKey, int frameSize = FrameFormat.DefaultFrameSize)
    {
        if (frameSize < FrameFormat.MinFrameSize || frameSize > FrameFormat.MaxFrameSize)
        {
            throw new ArgumentOutOfRangeException(nameof(frameSize));
        }

        _inner = inner;
        _frameSize = frameSize;
        _aes = new AesGcm(dataKey, FrameFormat.TagSize);
        _plain = new byte[frameSize];
        _cipher = new byte[frameSize + FrameFormat.TagSize];
        new FrameFormat.Header(frameSize, RandomNumberGenerator.GetBytes(16)).Write(_header);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        while (buffer.Length > 0)
        {
            // A full buffer is flushed only when more data arrives, so the last frame is never full.
            if (_filled == _frameSize)
            {
                await WriteFrameAsync(final: false, cancellationToken).ConfigureAwait(false);
            }

            var take = Math.Min(buffer.Length, _frameSize - _filled);
            buffer.Span[..take].CopyTo(_plain.AsSpan(_filled));
            _filled += take;
            buffer = buffer[take..];
        }
    }

    /// <summary>Writes the final frame (fewer than FrameSize plaintext bytes, possibly none).</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (_filled == _frameSize)
        {
            await WriteFrameAsync(final: false, cancellationToken).ConfigureAwait(false);
        }

        await WriteFrameAsync(final: true, cancellationToken).ConfigureAwait(false);
        await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        _completed = true;
    }

    public override void Flush()
    {
        // Frames are written whole; flushing mid-frame would change the layout.
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _aes.Dispose();
            CryptographicOperations.ZeroMemory(_plain);
        }

        base.Dispose(disposing);
    }

    private async Task WriteFrameAsync(bool final, CancellationToken cancellationToken)
    {
        if (!_headerWritten)
        {
            await _inner.WriteAsync(_header, cancellationToken).ConfigureAwait(false);
            _headerWritten = true;
        }

        var length = _filled;
        Seal(_aes, _header, _index, final, _plain.AsSpan(0, length), _cipher, _nonce, _aad);
        await _inner.WriteAsync(_cipher.AsMemory(0, length + FrameFormat.TagSize), cancellationToken).ConfigureAwait(false);
        _filled = 0;
        _index++;
    }

    /// <summary>Encrypts one frame: its ciphertext, then its tag, into <paramref name="cipher"/>.</summary>
    internal static void Seal(AesGcm aes, byte[] header, long index, bool final, ReadOnlySpan<byte> plain, Span<byte> cipher, byte[] nonce, byte[] aad)
    {
        FrameFormat.Nonce(index, nonce);
        FrameFormat.Aad(header, index, final, aad);
        aes.Encrypt(nonce, plain, cipher[..plain.Length], cipher.Slice(plain.Length, FrameFormat.TagSize), aad);
    }
}
