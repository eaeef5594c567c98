using System.Text.Json;
using System.Text.Json.Nodes;
using EcomDr.Engine.Pipeline.Storage;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>What a listing says of one stored object besides its key.</summary>
public readonly record struct ObjectStamp(long Size, DateTimeOffset Modified)
{
    public static ObjectStamp Of(StoreObject listed) => new(listed.Size, listed.Modified);
}

public enum BackupStatus
{
    /// <summary>Signed manifest present and verified: restorable.</summary>
    Complete,

    /// <summary>No manifest: the job did not finish (or is running). Never restorable.</summary>
    Incomplete,

    /// <summary>A manifest that fails verification (edited, unsigned, unknown signer). Never restorable.</summary>
    Invalid,
}

/// <summary>
/// One backup as the catalog sees it, in one store. A full listing holds its whole manifest; a
/// summary listing (<see cref="CatalogDetail.Summary"/>) holds only its labels and source facts, as
/// compact JSON, which is what retention, the inventory and the recoverable window work from.
/// </summary>
public sealed record BackupInfo(
    string Id,
    string Kind,
    string Environment,
    string Store,
    string Location,
    BackupStatus Status,
    DateTimeOffset Created,
    DateTimeOffset? Completed,
    long Size,
    int ArtifactCount,
    string? Problem,
    BackupManifest? Manifest)
{
    public string Prefix => RepositoryLayout.BackupPrefix(Environment, Kind, Id);

    // Nested in another result (a binlog segment's Backup), a backup prints as its name.
    public override string ToString() => $"{Kind}/{Id} ({Status}, {Store})";

    /// <summary>The source facts of a summary as compact JSON; null in a full listing (the manifest holds them).</summary>
    internal byte[]? SourceJson { get; init; }

    /// <summary>The labels of a summary as compact JSON (backups of one job share one array: never written to); null in a full listing.</summary>
    internal byte[]? LabelsJson { get; init; }

    /// <summary>The manifest object's size and time as listed when it was read: a catalog index entry stands for it while they are unchanged.</summary>
    public ObjectStamp? ManifestStamp { get; init; }

    /// <summary>"binlog.000042:1234 / 0-1-97" when the source facts hold binlog coordinates (worked out when asked: a summary holds no copy).</summary>
    public string Coordinates => Manifest is not null || SourceJson is not null ? CoordinatesOf(Source) : "";

    /// <summary>Facts of the source at the backup's moment (binlog coordinates, chain facts); empty when unknown.</summary>
    public JsonObject Source => Manifest?.Source ?? (SourceJson is { } json ? JsonNode.Parse(json)!.AsObject() : new JsonObject());

    public IReadOnlyDictionary<string, string> Labels =>
        Manifest?.Labels ?? (IReadOnlyDictionary<string, string>?)(LabelsJson is { } json ? JsonSerializer.Deserialize<Dictionary<string, string>>(json) : null)
        ?? new Dictionary<string, string>();

    /// <summary>
    /// The source facts as a document to read without building nodes (the caller disposes it): what
    /// reading a catalog of 100,000 segments needs, where <see cref="Source"/> would allocate kilobytes each.
    /// </summary>
    public JsonDocument SourceDocument() => JsonDocument.Parse(SourceJson ?? JsonSerializer.SerializeToUtf8Bytes(Source));

    public static BackupInfo From(BackupManifest manifest, string store, string location) => new(
        manifest.Id, manifest.Kind, manifest.Environment, store, location, BackupStatus.Complete, manifest.StartedAt,
        manifest.CompletedAt, manifest.Artifacts.Sum(a => a.StoredSize), manifest.Artifacts.Count, null, manifest);

    /// <summary>
    /// This backup without its manifest: the labels and source facts only (a few hundred bytes instead
    /// of kilobytes), equal label sets held once through <paramref name="labelSets"/>.
    /// </summary>
    internal BackupInfo Summarized(SharedBytes? labelSets = null) => Manifest is not { } manifest ? this : this with
    {
        Manifest = null,
        SourceJson = JsonSerializer.SerializeToUtf8Bytes(manifest.Source),
        LabelsJson = labelSets is null ? JsonSerializer.SerializeToUtf8Bytes(manifest.Labels) : labelSets.Share(JsonSerializer.SerializeToUtf8Bytes(manifest.Labels)),
    };

    /// <summary>"binlog.000042:1234 / 0-1-97" when the source facts hold binlog coordinates.</summary>
    public static string CoordinatesOf(JsonObject source)
    {
        var file = (string?)source["binlogFile"];
        var position = source["binlogPosition"]?.ToString();
        var gtid = (string?)source["gtidSet"];
        var parts = new List<string>();
        if (file is not null)
        {
            parts.Add($"{file}:{position}");
        }

        if (!string.IsNullOrEmpty(gtid))
        {
            parts.Add(gtid);
        }

        return string.Join(" / ", parts);
    }
}
