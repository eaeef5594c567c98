using System.Security.Cryptography;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>Write-through stream that counts and SHA-256-hashes what passes to the next stream.</summary>
internal sealed class HashingWriteStream : IO.WriteOnlyStream
{
    private readonly Stream _inner;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public HashingWriteStream(Stream inner) => _inner = inner;

    public long BytesWritten { get; private set; }

    public string HashHex() => Convert.ToHexString(_hash.GetHashAndReset()).ToLowerInvariant();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _hash.AppendData(buffer);
        BytesWritten += buffer.Length;
        _inner.Write(buffer);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _hash.AppendData(buffer.Span);
        BytesWritten += buffer.Length;
        await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// Read-through stream that counts and hashes what is read; at the end of the data it compares with
/// the expected size and SHA-256 and throws the error built by the mismatch callback.
/// </summary>
internal sealed class VerifyingReadStream : IO.ReadOnlyStream
{
    private readonly Stream _inner;
    private readonly long _expectedSize;
    private readonly string _expectedSha256;
    private readonly Func<string, Exception> _onMismatch;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private bool _checked;

    public VerifyingReadStream(Stream inner, long expectedSize, string expectedSha256, Func<string, Exception> onMismatch)
    {
        _inner = inner;
        _expectedSize = expectedSize;
        _expectedSha256 = expectedSha256;
        _onMismatch = onMismatch;
    }

    public long BytesRead { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    // A read into an empty buffer returns 0 without meaning the end (TarReader asks for 0 bytes at an entry's end).
    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var n = _inner.Read(buffer);
        return Account(buffer[..n], n);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var n = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Account(buffer.Span[..n], n);
    }


    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Account(ReadOnlySpan<byte> data, int n)
    {
        _hash.AppendData(data);
        BytesRead += n;
        if (n == 0 && !_checked)
        {
            _checked = true;
            var actual = Convert.ToHexString(_hash.GetHashAndReset()).ToLowerInvariant();
            if (BytesRead != _expectedSize)
            {
                throw _onMismatch($"size {BytesRead} bytes, manifest says {_expectedSize}");
            }

            if (!string.Equals(actual, _expectedSha256, StringComparison.OrdinalIgnoreCase))
            {
                throw _onMismatch($"SHA-256 {actual}, manifest says {_expectedSha256}");
            }
        }
        else if (BytesRead > _expectedSize)
        {
            throw _onMismatch($"more than the {_expectedSize} bytes the manifest records");
        }

        return n;
    }
}
