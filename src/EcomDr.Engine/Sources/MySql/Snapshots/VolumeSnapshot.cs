using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Sources.MySql.Snapshots;

/// <summary>How a volume snapshot is taken: the longest commits may be blocked, labels, and the data directory as the provider sees it (default: the server's datadir).</summary>
public sealed record VolumeSnapshotOptions(TimeSpan MaxFreeze, IReadOnlyDictionary<string, string>? Labels = null, string? DataDirectory = null)
{
    public static readonly TimeSpan DefaultMaxFreeze = TimeSpan.FromSeconds(Config.ConfigDefaults.SnapshotMaxFreezeSeconds);
}

/// <summary>What a volume snapshot produced: the backup, the provider's snapshot (and its offsite copy), and how long commits were blocked.</summary>
public sealed record VolumeSnapshotResult(
    BackupInfo Backup,
    SnapshotTaken Taken,
    SnapshotTaken? Offsite,
    TimeSpan Freeze,
    string Method,
    string BinlogFile,
    long BinlogPosition,
    string GtidSet,
    int Attempts,
    IReadOnlyList<string> Warnings);

/// <summary>
/// Invoke-MySqlVolumeSnapshot's engine: blocks commits (<see cref="SnapshotFreeze"/>), records the exact
/// binlog coordinates and GTID state, has the provider take the snapshot, and lets commits go as soon
/// as it says it is taken, or at MaxFreeze, whichever comes first. Past MaxFreeze the provider is
/// stopped and the job fails. Then the offsite copy, and the mysql-snapshot backup's signed manifest,
/// written last: a failed or aborted snapshot leaves no complete backup.
/// </summary>
public static class VolumeSnapshot
{
    public static async Task<VolumeSnapshotResult> RunAsync(RepositoryContext context, MySqlEndpoint endpoint, ISnapshotProvider provider, VolumeSnapshotOptions options,
        CancellationToken ct)
    {
        await using var control = await MySqlConnections.OpenAsync(endpoint, ct).ConfigureAwait(false);
        var facts = await ServerFacts.ReadAsync(control, ct).ConfigureAwait(false);
        var dataDirectory = options.DataDirectory ?? facts.Variable("datadir") ?? "";
        var warnings = new List<string>();
        if (provider.Atomic && facts.Variable("sync_binlog") is { } sync && sync != "1")
        {
            warnings.Add($"sync_binlog is {sync} on {endpoint.Display}: the newest binlog events may be in the page cache only, not on the volume. The snapshot's data is still consistent; a server started on it may lack the binlog's tail, and its GTID check then fails.");
        }

        await using var writer = await BackupWriter.BeginAsync(context, BackupKinds.MySqlSnapshot, options.Labels, ct).ConfigureAwait(false);
        var request = new SnapshotRequest(writer.Id, dataDirectory, new Dictionary<string, string>(writer.Labels) { ["environment"] = context.Environment, ["backupId"] = writer.Id });
        SnapshotTaken taken;
        TimeSpan held;
        string method, file, gtid;
        long position;
        var attempts = 0;
        await using (var freeze = await SnapshotFreeze.BeginAsync(control, facts.Flavor, !provider.Atomic, options.MaxFreeze, ct).ConfigureAwait(false))
        {
            (method, file, position, gtid) = (freeze.Method, freeze.BinlogFile, freeze.BinlogPosition, freeze.GtidSet);
            while (true)
            {
                attempts++;
                taken = await TakeWithinAsync(provider, request, freeze, options.MaxFreeze, ct).ConfigureAwait(false);
                if (freeze.Quiesce is not { } quiesce || await quiesce.UnchangedAsync(ct).ConfigureAwait(false))
                {
                    break;
                }

                // InnoDB wrote during the copy (purge, a checkpoint): that copy is not of one instant.
                await provider.DeleteAsync(taken, CancellationToken.None).ConfigureAwait(false);
                await quiesce.WaitStillAsync(freeze.Deadline, ct).ConfigureAwait(false);
            }

            await freeze.ReleaseAsync().ConfigureAwait(false);
            held = freeze.Held;
        }

        try
        {
            await provider.CompleteAsync(taken, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EcomDrException or OperationCanceledException)
        {
            // A snapshot that will not complete is no backup: it goes, and so does the job.
            try
            {
                await provider.DeleteAsync(taken, CancellationToken.None).ConfigureAwait(false);
            }
            catch (EcomDrException)
            {
                // The job's own error says more; the provider's console shows the orphan.
            }

            throw;
        }

        SnapshotTaken? offsite = null;
        try
        {
            offsite = await provider.CopyAsync(taken, ct).ConfigureAwait(false);
        }
        catch (EcomDrException ex)
        {
            warnings.Add($"The snapshot was taken but its offsite copy failed: {ex.Message} The backup records no offsite copy; copy it by hand or wait for the next snapshot.");
        }

        writer.Source["server"] = endpoint.Display;
        writer.Source["flavor"] = facts.Flavor.ToString();
        writer.Source["version"] = facts.VersionText;
        writer.Source["serverId"] = facts.Variable("server_id");
        writer.Source["binlogFile"] = file;
        writer.Source["binlogPosition"] = position;
        writer.Source["gtidSet"] = gtid;
        writer.Source["schemas"] = new JsonArray(facts.UserSchemas.Select(s => (JsonNode)s).ToArray());
        writer.Source["dataDirectory"] = dataDirectory;
        writer.Source["snapshot"] = SnapshotRecord.ToJson(taken, offsite);
        writer.Stats["freezeSeconds"] = Math.Round(held.TotalSeconds, 3);
        writer.Stats["consistency"] = method;
        writer.Stats["attempts"] = attempts;
        writer.Stats["warnings"] = new JsonArray(warnings.Select(w => (JsonNode)w).ToArray());
        var backup = await writer.CompleteAsync(ct).ConfigureAwait(false);
        return new VolumeSnapshotResult(backup, taken, offsite, held, method, file, position, gtid, attempts, warnings);
    }

    /// <summary>
    /// Runs the provider's take while the freeze holds. At the deadline the freeze is released first,
    /// then the provider is cancelled (its process tree killed) and whatever it made is left to it.
    /// </summary>
    private static async Task<SnapshotTaken> TakeWithinAsync(ISnapshotProvider provider, SnapshotRequest request, SnapshotFreeze freeze, TimeSpan maxFreeze, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var take = provider.TakeAsync(request, stop.Token);
        var left = freeze.Deadline - DateTimeOffset.UtcNow;
        using var timer = new CancellationTokenSource();
        var expired = Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero, timer.Token);
        if (await Task.WhenAny(take, expired).ConfigureAwait(false) == take)
        {
            await timer.CancelAsync().ConfigureAwait(false);
            return await take.ConfigureAwait(false);
        }

        await freeze.ReleaseAsync().ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            var late = await take.ConfigureAwait(false);
            await provider.DeleteAsync(late, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or EcomDrException)
        {
            // stopped, as asked
        }

        throw new EcomDrException(ErrorIds.SnapshotFreezeTimeout, FailureKind.OperationTimeout,
            $"The {provider.Name} provider had not taken the snapshot after {maxFreeze.TotalSeconds:0.#} s (-MaxFreeze): commits were released and the provider stopped. No backup was written; writes go on.",
            "MaxFreeze");
    }
}
