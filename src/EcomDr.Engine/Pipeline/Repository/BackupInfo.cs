namespace EcomDr.Engine.Pipeline.Repository;

public enum BackupStatus
{
    /// <summary>Signed manifest present and verified: restorable.</summary>
    Complete,

    /// <summary>No manifest: the job did not finish (or is running). Never restorable.</summary>
    Incomplete,

    /// <summary>A manifest that fails verification (edited, unsigned, unknown signer). Never restorable.</summary>
    Invalid,
}

/// <summary>One backup as the catalog sees it, in one store.</summary>
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
    string Coordinates,
    string? Problem,
    BackupManifest? Manifest)
{
    public string Prefix => RepositoryLayout.BackupPrefix(Environment, Kind, Id);

    // Nested in another result (a binlog segment's Backup), a backup prints as its name.
    public override string ToString() => $"{Kind}/{Id} ({Status}, {Store})";

    public static BackupInfo From(BackupManifest manifest, string store, string location) => new(
        manifest.Id, manifest.Kind, manifest.Environment, store, location, BackupStatus.Complete, manifest.StartedAt,
        manifest.CompletedAt, manifest.Artifacts.Sum(a => a.StoredSize), manifest.Artifacts.Count, CoordinatesOf(manifest), null, manifest);

    /// <summary>"binlog.000042:1234 / 0-1-97" when the source facts hold binlog coordinates.</summary>
    public static string CoordinatesOf(BackupManifest manifest)
    {
        var file = (string?)manifest.Source["binlogFile"];
        var position = manifest.Source["binlogPosition"]?.ToString();
        var gtid = (string?)manifest.Source["gtidSet"];
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
