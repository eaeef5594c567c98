using System.Buffers;
using System.Security.Cryptography;

namespace EcomDr.Engine.Vault;

/// <summary>
/// A growable buffer for bytes that may hold secret values: every array it lets go of (when it grows,
/// when it is cleared, when it is disposed) is zeroed first, which ArrayBufferWriter does not do on growth.
/// </summary>
internal sealed class ClearingBufferWriter(int capacity) : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer = new byte[capacity];
    private int _written;

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public void Clear()
    {
        CryptographicOperations.ZeroMemory(_buffer.AsSpan(0, _written));
        _written = 0;
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_buffer);

    private void Ensure(int sizeHint)
    {
        var need = _written + Math.Max(sizeHint, 1);
        if (need <= _buffer.Length)
        {
            return;
        }

        var grown = new byte[Math.Max(need, _buffer.Length * 2)];
        _buffer.AsSpan(0, _written).CopyTo(grown);
        CryptographicOperations.ZeroMemory(_buffer);
        _buffer = grown;
    }
}
