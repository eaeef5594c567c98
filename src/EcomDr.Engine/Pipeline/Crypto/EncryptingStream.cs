using System.Security.Cryptography;

namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>
/// Write-only stream that encrypts what is written into framed AES-256-GCM (see <see cref="FrameFormat"/>),
/// each frame as it fills, on the writer's thread.
/// </summary>
public sealed class EncryptingStream : FramingStream
{
    private readonly Stream _inner;
    private readonly AesGcm _aes;
    private readonly byte[] _cipher;
    private readonly byte[] _nonce = new byte[FrameFormat.NonceSize];
    private readonly byte[] _aad = new byte[FrameFormat.AadSize];
    private long _index;
    private bool _headerWritten;

    public EncryptingStream(Stream inner, ReadOnlySpan<byte> dataKey, int frameSize = FrameFormat.DefaultFrameSize)
        : base(frameSize)
    {
        _inner = inner;
        _aes = new AesGcm(dataKey, FrameFormat.TagSize);
        Frame = new byte[frameSize];
        _cipher = new byte[frameSize + FrameFormat.TagSize];
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _aes.Dispose();
            CryptographicOperations.ZeroMemory(Frame);
        }

        base.Dispose(disposing);
    }

    protected override async Task EmitAsync(bool final, CancellationToken cancellationToken)
    {
        if (!_headerWritten)
        {
            await _inner.WriteAsync(Header, cancellationToken).ConfigureAwait(false);
            _headerWritten = true;
        }

        var length = Filled;
        Seal(_aes, Header, _index++, final, Frame.AsSpan(0, length), _cipher, _nonce, _aad);
        await _inner.WriteAsync(_cipher.AsMemory(0, length + FrameFormat.TagSize), cancellationToken).ConfigureAwait(false);
        Filled = 0;
    }

    protected override Task FinishAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);
}
