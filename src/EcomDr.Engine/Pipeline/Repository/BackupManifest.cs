using System.Text.Json.Nodes;
using EcomDr.Engine.Pipeline.Crypto;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// What one backup is (docs/format.md, "Manifest"): identity, labels, times, source facts, and every
/// artifact with its sizes, hashes, compression and wrapped data keys. Written last, signed. Version 2
/// (the default) stores the descriptive part encrypted (<see cref="SealedManifest"/>); version 1 is
/// plain JSON and is still read.
/// </summary>
public sealed class BackupManifest
{
    /// <summary>The plain-JSON manifest of EcomDr's first format; read, and written only on request.</summary>
    public const int PlainSchemaVersion = 1;

    /// <summary>The private format: opaque object names, descriptive fields sealed under the backup's manifest key.</summary>
    public const int SealedSchemaVersion = 2;

    public const int CurrentSchemaVersion = SealedSchemaVersion;

    public int SchemaVersion { get; set; } = CurrentSchemaVersion;

    /// <summary>
    /// True when this manifest was read without a key able to open its sealed part: only the clear
    /// fields are known (identity, times, coordinates, public labels, object sizes and hashes).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Sealed { get; set; }

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
