namespace EcomDr.Engine.Sources.MySql.Snapshots;

/// <summary>A snapshot to take: its name (also the backup's), the server's data directory, and the backup's labels.</summary>
public sealed record SnapshotRequest(string Name, string DataDirectory, IReadOnlyDictionary<string, string> Labels);

/// <summary>What a provider took: its snapshot ids, and where and how they are kept.</summary>
public sealed record SnapshotTaken(string Provider, IReadOnlyList<string> Ids, string? Region, bool Encrypted);

/// <summary>
/// Takes, copies and deletes volume snapshots for a mysql-snapshot backup. Take runs while commits
/// are blocked, so it must return as soon as the snapshot exists (not when it is copied or complete).
/// </summary>
public interface ISnapshotProvider
{
    string Name { get; }

    /// <summary>
    /// True when a snapshot captures every file at one instant (a volume's): blocking commits is then
    /// enough. False for a copy made file by file, which needs the files themselves still.
    /// </summary>
    bool Atomic { get; }

    Task<SnapshotTaken> TakeAsync(SnapshotRequest request, CancellationToken ct);

    /// <summary>
    /// Waits, after the freeze, until the snapshot is usable (an EBS snapshot "completed"); a snapshot
    /// that fails or does not complete in time is an error. Nothing to wait for with most providers.
    /// </summary>
    Task CompleteAsync(SnapshotTaken taken, CancellationToken ct) => Task.CompletedTask;

    /// <summary>Copies the snapshot to another region (offsite); null when the provider has no copy configured.</summary>
    Task<SnapshotTaken?> CopyAsync(SnapshotTaken taken, CancellationToken ct);

    Task DeleteAsync(SnapshotTaken taken, CancellationToken ct);
}
