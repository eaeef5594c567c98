using System.Security.Cryptography;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>
/// Read-only stream that authenticates and decrypts a framed artifact. Plaintext of a frame is
/// released only after its tag verifies; a bad frame, a missing final frame or bytes after it are
/// errors (<see cref="ErrorIds.ArtifactCorrupt"/>) naming the frame.
/// </summary>
public sealed class DecryptingStream : IO.ReadOnlyStream
{
    private readonly Stream _inner;
    private readonly byte[] _dataKey;
    private readonly string _name;
    private readonly byte[] _header = new byte[FrameFormat.HeaderSize];
    private readonly byte[] _nonce = new byte[FrameFormat.NonceSize];
    private readonly byte[] _aad = new byte[FrameFormat.AadSize];
    private AesGcm? _aes;
    private byte[] _cipher = Array.Empty<byte>();
    private byte[] _plain = Array.Empty<byte>();
    private int _frameSize;
    private int _plainLength;
    private int _plainOffset;
    private long _index;
    private bool _finished;

    public DecryptingStream(Stream inner, ReadOnlySpan<byte> dataKey, string artifactName)
    {
        _inner = inner;
        _dataKey = dataKey.ToArray();
        _name = artifactName;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_plainOffset == _plainLength)
        {
            if (_finished)
            {
                return 0;
            }

            await ReadFrameAsync(cancellationToken).ConfigureAwait(false);
        }

        var take = Math.Min(buffer.Length, _plainLength - _plainOffset);
        _plain.AsSpan(_plainOffset, take).CopyTo(buffer.Span);
        _plainOffset += take;
        return take;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _aes?.Dispose();
            CryptographicOperations.ZeroMemory(_dataKey);
            CryptographicOperations.ZeroMemory(_plain);
        }

        base.Dispose(disposing);
    }

    private async Task ReadFrameAsync(CancellationToken cancellationToken)
    {
        if (_aes is null)
        {
            var got = await ReadFullyAsync(_header, cancellationToken).ConfigureAwait(false);
            string? problem = "shorter than its header";
            var header = got == FrameFormat.HeaderSize ? FrameFormat.Header.Read(_header, out problem) : null;
            if (header is null)
            {
                throw Corrupt(problem ?? "unreadable header");
            }

            _frameSize = header.Value.FrameSize;
            _cipher = new byte[_frameSize + FrameFormat.TagSize + 1];
            _plain = new byte[_frameSize];
            _aes = new AesGcm(_dataKey, FrameFormat.TagSize);
        }

        // One byte more than a full frame: a full read means "not final", a short read means final.
        var read = await ReadFullyAsync(_cipher.AsMemory(0, _frameSize + FrameFormat.TagSize), cancellationToken).ConfigureAwait(false);
        var final = read < _frameSize + FrameFormat.TagSize;
        if (read < FrameFormat.TagSize)
        {
            throw Corrupt(read == 0 && _index > 0
                ? $"truncated: ends after frame {_index - 1} without a final frame"
                : $"truncated inside frame {_index}");
        }

        var length = read - FrameFormat.TagSize;
        FrameFormat.Nonce(_index, _nonce);
        FrameFormat.Aad(_header, _index, final, _aad);
        try
        {
            _aes.Decrypt(_nonce, _cipher.AsSpan(0, length), _cipher.AsSpan(length, FrameFormat.TagSize), _plain.AsSpan(0, length), _aad);
        }
        catch (AuthenticationTagMismatchException)
        {
            throw Corrupt($"frame {_index} ({(final ? "final" : "not final")}) fails authentication: modified, reordered, dropped, truncated, spliced from another artifact, or the wrong key");
        }

        if (final)
        {
            _finished = true;
            if (await _inner.ReadAsync(_cipher.AsMemory(0, 1), cancellationToken).ConfigureAwait(false) != 0)
            {
                throw Corrupt($"bytes after the final frame {_index}");
            }
        }

        _plainLength = length;
        _plainOffset = 0;
        _index++;
    }

    private async Task<int> ReadFullyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await _inner.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    private EcomDrException Corrupt(string what) =>
        new(ErrorIds.ArtifactCorrupt, FailureKind.InvalidData, $"Artifact '{_name}': {what}.", _name);
}
