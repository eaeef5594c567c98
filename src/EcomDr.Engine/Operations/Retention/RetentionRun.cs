using EcomDr.Engine.Config;
using EcomDr.Engine.Operations.Telemetry;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Pipeline.Storage;

namespace EcomDr.Engine.Operations.Retention;

/// <summary>
/// One retention run in one store: it holds the store's retention lock (one run at a time), plans
/// under it, and removes expired backups one by one with the manifest-first removal, so an
/// interrupted run leaves only incomplete backups, which the next run removes. After the removals it
/// rewrites the catalog index, so the next plan reads only the manifests written since.
/// </summary>
public sealed class RetentionRun : IAsyncDisposable
{
    public const string LockName = "retention";

    private readonly RepositoryContext _context;
    private readonly RepositoryLock _lock;
    private readonly RetentionConfig _policy;
    private readonly HashSet<string> _removed = new(StringComparer.Ordinal);
    private readonly SnapshotExpiry _snapshots;

    private RetentionRun(RepositoryContext context, RepositoryLock held, RetentionConfig policy, RetentionPlan plan, SnapshotExpiry snapshots)
    {
        _context = context;
        _lock = held;
        _policy = policy;
        _snapshots = snapshots;
        Plan = plan;
    }

    public RetentionPlan Plan { get; }

    public int Removed { get; private set; }

    public long BytesFreed { get; private set; }

    /// <summary>Expired volume snapshots kept because their provider delete failed (marked for a retry).</summary>
    public int SnapshotDeleteFailures { get; private set; }

    /// <summary>Why the catalog index was not rewritten after the removals; null when it was (or the run has not removed yet).</summary>
    public string? IndexProblem { get; private set; }

    /// <summary>Begins a run; <paramref name="snapshots"/> deletes expired volume snapshots (mysql.volumeSnapshot's provider, or none configured).</summary>
    public static async Task<RetentionRun> BeginAsync(RepositoryContext context, RetentionConfig policy, CancellationToken ct,
        Sources.MySql.Snapshots.ISnapshotProvider? snapshots = null)
    {
        var held = await RepositoryLock.AcquireAsync(context.Store, context.Environment, LockName, "retention run", TimeSpan.FromMinutes(2), ct).ConfigureAwait(false);
        try
        {
            return new RetentionRun(context, held, policy.ForStore(context.Store.Name), await RetentionPlanner.PlanAsync(context, policy, ct).ConfigureAwait(false),
                new SnapshotExpiry(context, snapshots));
        }
        catch
        {
            await held.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Removes one backup the plan expired, manifest first, unless a reader holds a lease on it; returns
    /// why it was kept then (and removes nothing). Leases are read again after the manifest is gone: a
    /// reader that took one in between gets the manifest back before any object goes. A volume
    /// snapshot's provider snapshots are deleted before anything of the backup: if that fails, the
    /// backup stays whole and is marked for a retry.
    /// </summary>
    public async Task<string?> RemoveAsync(RetentionDecision decision, CancellationToken ct)
    {
        if (decision.Keep)
        {
            throw new InvalidOperationException($"{decision.Id} is kept: {decision.Reason}");
        }

        if ((await ReadLease.ActiveAsync(_context, ct).ConfigureAwait(false)).TryGetValue(decision.Id, out var reader))
        {
            return $"it is being read by {reader}";
        }

        var backup = decision.Backup;
        if (await _snapshots.DeleteSnapshotsAsync(backup, ct).ConfigureAwait(false) is { } failed)
        {
            SnapshotDeleteFailures++;
            return $"its volume snapshot could not be deleted ({failed}); it is marked for a retry, which the next run makes";
        }

        var manifestKey = RepositoryLayout.ManifestKey(backup.Environment, backup.Kind, backup.Id);
        byte[]? manifest = null;
        if (backup.Status == BackupStatus.Complete)
        {
            manifest = await _context.Store.ReadAllAsync(manifestKey, ct).ConfigureAwait(false);
            await _context.Store.DeleteAsync(manifestKey, CancellationToken.None).ConfigureAwait(false);
            if ((await ReadLease.ActiveAsync(_context, CancellationToken.None).ConfigureAwait(false)).TryGetValue(backup.Id, out reader))
            {
                // The same signed bytes: the backup is exactly as it was.
                await _context.Store.PutAsync(manifestKey, manifest, CancellationToken.None).ConfigureAwait(false);
                return $"it is being read by {reader}";
            }
        }

        await BackupRemover.RemoveAsync(_context, backup, CancellationToken.None).ConfigureAwait(false);
        Removed++;
        BytesFreed += decision.Size;
        _removed.Add(backup.Id);
        return null;
    }

    /// <summary>Removes each of <paramref name="expired"/>; returns those kept after all, with why.</summary>
    public async Task<IReadOnlyList<(RetentionDecision Decision, string Why)>> RemoveAllAsync(IEnumerable<RetentionDecision> expired, CancellationToken ct)
    {
        var inUse = new List<(RetentionDecision, string)>();
        foreach (var decision in expired)
        {
            if (await RemoveAsync(decision, ct).ConfigureAwait(false) is { } reader)
            {
                inUse.Add((decision, reader));
            }
        }

        await WriteIndexAsync(ct).ConfigureAwait(false);
        return inUse;
    }

    // A cache only: a run that removed what it should succeeds without it, and says why it is missing.
    private async Task WriteIndexAsync(CancellationToken ct)
    {
        try
        {
            if (!await CatalogIndex.WriteAsync(_context, Plan.Decisions.Select(d => d.Backup).Where(b => !_removed.Contains(b.Id)), ct).ConfigureAwait(false))
            {
                IndexProblem = "the catalog index was not rewritten: no signing key is open";
            }
        }
        catch (Errors.EcomDrException ex) when (ex.Kind is not Errors.FailureKind.OperationStopped)
        {
            IndexProblem = $"the catalog index was not rewritten: {ex.Message}";
        }
    }

    /// <summary>The run's gauges: what it removed and freed, and the store's recoverable window against the policy's.</summary>
    public async Task<IReadOnlyDictionary<string, double>> FiguresAsync(CancellationToken ct)
    {
        var figures = new Dictionary<string, double>
        {
            [MetricNames.RetentionBytesFreed] = BytesFreed,
            [MetricNames.RetentionExpired] = Removed,
            [MetricNames.SnapshotDeleteFailures] = SnapshotDeleteFailures,
        };
        if (await RecoverableWindow.ReadAsync(_context, ct).ConfigureAwait(false) is { Oldest: { } oldest, Newest: { } newest })
        {
            figures[MetricNames.WindowOldest] = oldest.ToUnixTimeSeconds();
            figures[MetricNames.WindowNewest] = newest.ToUnixTimeSeconds();
            figures[MetricNames.WindowObjective] = TimeSpan.FromDays(_policy.BinlogWindowDays).TotalSeconds;
        }

        return figures;
    }

    /// <summary>Bytes of the complete backups kept, per kind.</summary>
    public IReadOnlyDictionary<string, long> KeptBytesByKind() =>
        Plan.Kept.Where(d => d.Backup.Status == BackupStatus.Complete).GroupBy(d => d.Kind).ToDictionary(g => g.Key, g => g.Sum(d => d.Size), StringComparer.Ordinal);

    public RetentionSummary Summary(bool whatIf) =>
        new(Plan.Environment, Plan.Store, Plan.Now, Plan.Kept.Count(), Plan.Expired.Count(), Removed, BytesFreed, whatIf);

    public ValueTask DisposeAsync() => _lock.DisposeAsync();
}
