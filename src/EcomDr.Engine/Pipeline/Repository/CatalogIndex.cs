using System.Buffers;
using System.Text;
using System.Text.Json;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Compression;
using EcomDr.Engine.Pipeline.Storage;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// A cache of the catalog's summaries (docs/format.md, "Catalog index"): one signed object per
/// environment and store whose sealed part holds, per complete backup, its summary and the size and
/// time of the manifest it was read from. A summary listing takes an entry instead of reading a
/// manifest only while the store lists that manifest with the same size and time; anything else (a
/// new, removed or rewritten manifest) is read from the store, which stays the source of truth. An
/// index that is missing, unsigned, untrusted or does not open is not used. Retention writes it
/// after each run. Entries are read one line at a time: only those a listing takes are kept.
/// </summary>
public static class CatalogIndex
{
    public const int SchemaVersion = 1;

    /// <summary>The index as opened: its entries (zstd-compressed JSON lines), or why it cannot be used (null: none written yet).</summary>
    public sealed class Contents(byte[]? compressed, string? problem)
    {
        public string? Problem { get; } = problem;

        /// <summary>Each entry once, in the order written; an entry is valid until the next is read.</summary>
        public IEnumerable<IndexEntry> Entries()
        {
            if (compressed is null)
            {
                yield break;
            }

            using var lines = new LineReader(Zstd.Decompress(new MemoryStream(compressed)));
            var labels = new SharedBytes();
            while (lines.Next() is { } line)
            {
                yield return IndexEntry.Parse(line, labels);
            }
        }
    }

    public static async Task<Contents> OpenAsync(RepositoryContext context, CancellationToken ct)
    {
        var key = RepositoryLayout.CatalogIndexKey(context.Environment);
        var where = $"{context.Store.Location}{key}";
        byte[] envelope;
        try
        {
            envelope = await context.Store.ReadAllAsync(key, ct).ConfigureAwait(false);
        }
        catch (EcomDrException ex) when (ex.Kind == FailureKind.ObjectNotFound)
        {
            return new Contents(null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(envelope);
            var body = SignedEnvelope.Verify(envelope, document.RootElement, "index", context.Trust, "Catalog index", where);
            if (body.GetProperty("schemaVersion").GetInt32() != SchemaVersion || body.GetProperty("environment").GetString() != context.Environment)
            {
                return new Contents(null, $"{where} is of another version or environment");
            }

            var compressed = await SealedPart.OpenAsync(body.GetProperty("sealed"), context.KeyProviders, AssociatedData(context.Environment),
                what => new EcomDrException(ErrorIds.ManifestInvalid, FailureKind.InvalidData, $"Catalog index {where} {what}.", where), ct).ConfigureAwait(false);
            return new Contents(compressed, compressed is null ? $"no key given opens {where}" : null);
        }
        // A cache that cannot be used is not an error: the manifests are read instead (a key service down included).
        catch (Exception ex) when (ex is EcomDrException { Kind: not FailureKind.OperationStopped } or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return new Contents(null, ex is EcomDrException ? ex.Message : $"{where} is unreadable ({ex.GetType().Name})");
        }
    }

    /// <summary>
    /// Replaces the index with the complete backups among <paramref name="backups"/> that were read
    /// from a listed manifest; false when the context has no signing key (a reader cannot write one).
    /// </summary>
    public static async Task<bool> WriteAsync(RepositoryContext context, IEnumerable<BackupInfo> backups, CancellationToken ct)
    {
        if (context.SigningKey is not { } signer)
        {
            return false;
        }

        var count = 0;
        using var compressed = new MemoryStream();
        await using (var zstd = Zstd.Compress(compressed, 3, 0))
        {
            foreach (var backup in backups.Where(b => b.Status == BackupStatus.Complete && b.ManifestStamp is not null && b.Environment == context.Environment))
            {
                await zstd.WriteAsync(IndexEntry.Line(backup.Summarized()), ct).ConfigureAwait(false);
                count++;
            }
        }

        var body = new ArrayBufferWriter<byte>((int)compressed.Length * 4 / 3 + 4096);
        await using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteNumber("schemaVersion", SchemaVersion);
            json.WriteString("environment", context.Environment);
            json.WriteString("writtenAt", context.Now);
            json.WriteNumber("entries", count);
            json.WritePropertyName("sealed");
            await SealedPart.WriteAsync(json, compressed.GetBuffer().AsMemory(0, (int)compressed.Length), context.WrappingProviders, AssociatedData(context.Environment), ct)
                .ConfigureAwait(false);
            json.WriteEndObject();
        }

        await context.Store.PutAsync(RepositoryLayout.CatalogIndexKey(context.Environment), SignedEnvelope.Encode("index", body.WrittenSpan, signer), ct).ConfigureAwait(false);
        return true;
    }

    private static byte[] AssociatedData(string environment) => Encoding.UTF8.GetBytes($"ecomdr/catalog-index/v1|{environment}");

    // Lines of a stream, each a view of the reader's buffer until the next call.
    private sealed class LineReader(Stream inner) : IDisposable
    {
        private byte[] _buffer = new byte[1 << 16];
        private int _start;
        private int _end;

        public ReadOnlyMemory<byte>? Next()
        {
            while (true)
            {
                var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (newline >= 0)
                {
                    var line = _buffer.AsMemory(_start, newline - _start);
                    _start = newline + 1;
                    return line;
                }

                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    (_end, _start) = (_end - _start, 0);
                }

                if (_end == _buffer.Length)
                {
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }

                var read = inner.Read(_buffer, _end, _buffer.Length - _end);
                if (read == 0)
                {
                    return _end > _start ? throw new InvalidDataException("the catalog index ends inside a line") : null;
                }

                _end += read;
            }
        }

        public void Dispose() => inner.Dispose();
    }
}

/// <summary>One line of the catalog index: a complete backup's summary and the manifest stamp it was read under.</summary>
public sealed class IndexEntry
{
    private ReadOnlyMemory<byte> _source;
    private byte[] _labels = [];

    public string Kind { get; private init; } = "";

    public string Id { get; private init; } = "";

    public ObjectStamp Manifest { get; private init; }

    private DateTimeOffset Created { get; init; }

    private DateTimeOffset? Completed { get; init; }

    private long Size { get; init; }

    private int Artifacts { get; init; }

    /// <summary>The backup it stands for, named by the listing's own <paramref name="kind"/> and <paramref name="id"/> strings.</summary>
    public BackupInfo ToBackup(RepositoryContext context, string kind, string id) =>
        new(id, kind, context.Environment, context.Store.Name, context.Store.Location, BackupStatus.Complete, Created, Completed, Size, Artifacts, null, null)
        {
            SourceJson = _source.ToArray(),
            LabelsJson = _labels,
            ManifestStamp = Manifest,
        };

    internal static byte[] Line(BackupInfo b)
    {
        var line = new MemoryStream();
        using (var json = new Utf8JsonWriter(line))
        {
            json.WriteStartObject();
            json.WriteString("kind", b.Kind);
            json.WriteString("id", b.Id);
            json.WriteString("created", b.Created);
            if (b.Completed is { } completed)
            {
                json.WriteString("completed", completed);
            }

            json.WriteNumber("size", b.Size);
            json.WriteNumber("artifacts", b.ArtifactCount);
            json.WriteNumber("manifestSize", b.ManifestStamp!.Value.Size);
            json.WriteString("manifestModified", b.ManifestStamp.Value.Modified);
            json.WritePropertyName("labels");
            json.WriteRawValue(b.LabelsJson!);
            json.WritePropertyName("source");
            json.WriteRawValue(b.SourceJson!);
            json.WriteEndObject();
        }

        line.WriteByte((byte)'\n');
        return line.ToArray();
    }

    // A forward read of the line's top-level members; labels and source stay the bytes they were written as.
    internal static IndexEntry Parse(ReadOnlyMemory<byte> line, SharedBytes labelSets)
    {
        var reader = new Utf8JsonReader(line.Span);
        string kind = "", id = "";
        DateTimeOffset created = default, modified = default;
        DateTimeOffset? completed = null;
        long size = 0, manifestSize = -1;
        var artifacts = 0;
        ReadOnlyMemory<byte> source = default, labels = default;
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var member = Member(ref reader);
            reader.Read();
            switch (member)
            {
                case 0: kind = reader.GetString()!; break;
                case 1: id = reader.GetString()!; break;
                case 2: created = reader.GetDateTimeOffset(); break;
                case 3: completed = reader.GetDateTimeOffset(); break;
                case 4: size = reader.GetInt64(); break;
                case 5: artifacts = reader.GetInt32(); break;
                case 6: manifestSize = reader.GetInt64(); break;
                case 7: modified = reader.GetDateTimeOffset(); break;
                case 8: labels = Raw(ref reader, line); break;
                case 9: source = Raw(ref reader, line); break;
                default: reader.Skip(); break;
            }
        }

        if (kind.Length == 0 || id.Length == 0 || manifestSize < 0 || source.IsEmpty || labels.IsEmpty)
        {
            throw new JsonException("an entry of the catalog index lacks its kind, id, manifest stamp, labels or source");
        }

        return new IndexEntry
        {
            Kind = kind, Id = id, Manifest = new ObjectStamp(manifestSize, modified), Created = created, Completed = completed, Size = size,
            Artifacts = artifacts, _source = source, _labels = labelSets.Share(labels.Span),
        };
    }

    private static readonly byte[][] Members = ["kind"u8.ToArray(), "id"u8.ToArray(), "created"u8.ToArray(), "completed"u8.ToArray(), "size"u8.ToArray(),
        "artifacts"u8.ToArray(), "manifestSize"u8.ToArray(), "manifestModified"u8.ToArray(), "labels"u8.ToArray(), "source"u8.ToArray()];

    // The member's number in Members, or -1 (read from a later format: skipped).
    private static int Member(ref Utf8JsonReader reader)
    {
        for (var i = 0; i < Members.Length; i++)
        {
            if (reader.ValueTextEquals(Members[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static ReadOnlyMemory<byte> Raw(ref Utf8JsonReader reader, ReadOnlyMemory<byte> line)
    {
        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        return line[start..(int)reader.BytesConsumed];
    }
}
