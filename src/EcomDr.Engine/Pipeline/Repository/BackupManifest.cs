using System.Text.Json.Nodes;
using EcomDr.Engine.Pipeline.Crypto;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// What one backup is (docs/format.md, "Manifest"): identity, labels, times, source facts, and every
/// artifact with its sizes, hashes, compression and wrapped data keys. Written last, signed.
/// </summary>
public sealed class BackupManifest
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; set; } = CurrentSchemaVersion;

    public string Id { get; set; } = "";

    public string Kind { get; set; } = "";

    public string Environment { get; set; } = "";

    /// <summary>host, toolVersion, gitCommit, gitTag and caller-supplied labels.</summary>
    public SortedDictionary<string, string> Labels { get; set; } = new(StringComparer.Ordinal);

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset CompletedAt { get; set; }

    /// <summary>Facts of the source at the backup's moment: server flavor/version/id, binlog coordinates, GTID set.</summary>
    public JsonObject Source { get; set; } = new();

    public List<ArtifactEntry> Artifacts { get; set; } = new();

    /// <summary>Kind-specific statistics (tables, row counts, checksums).</summary>
    public JsonObject Stats { get; set; } = new();
}

public sealed class ArtifactEntry
{
    /// <summary>Logical name, e.g. "data/ecommerce.orders.00001.sql".</summary>
    public string Name { get; set; } = "";

    /// <summary>Store key relative to the backup's folder.</summary>
    public string Path { get; set; } = "";

    public long StoredSize { get; set; }

    public string StoredSha256 { get; set; } = "";

    public long PlainSize { get; set; }

    public string PlainSha256 { get; set; } = "";

    public CompressionInfo Compression { get; set; } = new();

    public EncryptionInfo Encryption { get; set; } = new();
}

public sealed class CompressionInfo
{
    public string Algorithm { get; set; } = "zstd";

    public int Level { get; set; }
}

public sealed class EncryptionInfo
{
    public const string FramedAesGcm = "AES-256-GCM-framed-v1";

    public string Algorithm { get; set; } = FramedAesGcm;

    public int FrameSize { get; set; }

    public List<WrappedKey> Keys { get; set; } = new();
}
