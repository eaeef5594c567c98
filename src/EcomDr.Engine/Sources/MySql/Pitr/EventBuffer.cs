using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// A transaction's events, held until replay has decided what to do with the transaction as a
/// whole: in memory up to a bound, then spilled to a temporary file, so memory stays flat whatever
/// the transaction's size. The spill file is encrypted (AES-256-GCM frames under a key that exists
/// only in this process), deleted on close, and can be read any number of times.
/// </summary>
internal sealed class EventBuffer : IAsyncDisposable
{
    private const int HeadSize = 24;
    private readonly List<ArchivedEvent> _memory = new();
    private readonly long _memoryLimit;
    private readonly List<string> _files = new();
    private readonly List<BinlogFormat> _formats = new();
    private long _memoryBytes;
    private FileStream? _spill;
    private EncryptingStream? _writer;
    private byte[]? _key;
    private bool _sealed;

    public EventBuffer(long memoryLimit) => _memoryLimit = memoryLimit;

    public int Count { get; private set; }

    public long Bytes { get; private set; }

    /// <summary>Whether part of it went to the spill file.</summary>
    public bool Spilled => _spill is not null;

    public async ValueTask AddAsync(ArchivedEvent item, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_sealed, this);
        Count++;
        Bytes += item.Event.Raw.Length;
        if (_spill is null && _memoryBytes + item.Event.Raw.Length <= _memoryLimit)
        {
            _memory.Add(item);
            _memoryBytes += item.Event.Raw.Length;
            return;
        }

        if (_spill is null)
        {
            var path = Path.Combine(Path.GetTempPath(), $"ecomdr-replay-{Guid.NewGuid():N}.spill");
            _spill = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16,
                FileOptions.DeleteOnClose | FileOptions.Asynchronous);
            _key = RandomNumberGenerator.GetBytes(32);
            _writer = new EncryptingStream(_spill, _key);
        }

        // file index, format index, position, body length (the body follows the header; a checksum may follow it), raw length, raw bytes
        var head = new byte[HeadSize];
        BinaryPrimitives.WriteInt32LittleEndian(head, Index(_files, item.File));
        BinaryPrimitives.WriteInt32LittleEndian(head.AsSpan(4), Index(_formats, item.Format));
        BinaryPrimitives.WriteInt64LittleEndian(head.AsSpan(8), item.Event.Position);
        BinaryPrimitives.WriteInt32LittleEndian(head.AsSpan(16), item.Event.Body.Length);
        BinaryPrimitives.WriteInt32LittleEndian(head.AsSpan(20), item.Event.Raw.Length);
        await _writer!.WriteAsync(head, ct).ConfigureAwait(false);
        await _writer.WriteAsync(item.Event.Raw, ct).ConfigureAwait(false);
    }

    /// <summary>Every event added, in order; call after the last <see cref="AddAsync"/>.</summary>
    public async IAsyncEnumerable<ArchivedEvent> ReadAsync([EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var item in _memory)
        {
            yield return item;
        }

        if (_spill is null)
        {
            yield break;
        }

        if (!_sealed)
        {
            await _writer!.CompleteAsync(ct).ConfigureAwait(false);
            _sealed = true;
        }

        _spill.Position = 0;
        using var reader = new DecryptingStream(_spill, _key, "replay spill");
        var head = new byte[HeadSize];
        for (var i = _memory.Count; i < Count; i++)
        {
            await reader.ReadExactlyAsync(head, ct).ConfigureAwait(false);
            var raw = new byte[BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(20))];
            await reader.ReadExactlyAsync(raw, ct).ConfigureAwait(false);
            var body = raw.AsMemory(BinlogEventHeader.Size, BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(16)));
            var e = new BinlogEvent(BinlogEventHeader.Parse(raw), BinaryPrimitives.ReadInt64LittleEndian(head.AsSpan(8)), raw, body);
            yield return new ArchivedEvent(_files[BinaryPrimitives.ReadInt32LittleEndian(head)], e, _formats[BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(4))]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _writer?.Dispose();
        if (_spill is not null)
        {
            await _spill.DisposeAsync().ConfigureAwait(false);
        }

        if (_key is not null)
        {
            CryptographicOperations.ZeroMemory(_key);
        }

        _memory.Clear();
    }

    private static int Index<T>(List<T> list, T value)
        where T : class
    {
        var at = list.FindIndex(x => ReferenceEquals(x, value) || Equals(x, value));
        if (at >= 0)
        {
            return at;
        }

        list.Add(value);
        return list.Count - 1;
    }
}
