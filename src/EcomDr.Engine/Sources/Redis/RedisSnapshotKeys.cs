using System.Runtime.CompilerServices;
using System.Threading.Channels;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Sources.Redis;

/// <summary>
/// Reads a Redis snapshot from the repository without any Redis server: the stored dump.rdb is
/// decrypted and walked as it streams, key by key, under a read lease (retention leaves it alone
/// meanwhile). Memory stays flat whatever the RDB's size: keys are handed on as they are read.
/// </summary>
public static class RedisSnapshotKeys
{
    /// <summary>The redis backup by id, or the newest complete one; a clear error when there is none or it is another kind.</summary>
    public static async Task<BackupInfo> FindAsync(RepositoryContext context, string? id, CancellationToken ct)
    {
        var backup = id is not null
            ? await BackupCatalog.GetAsync(context, id, ct).ConfigureAwait(false)
            : (await BackupCatalog.ListAsync(context, BackupKinds.Redis, ct).ConfigureAwait(false)).LastOrDefault(b => b.Status == BackupStatus.Complete)
              ?? throw new EcomDrException(ErrorIds.BackupNotFound, FailureKind.ObjectNotFound,
                  $"No complete redis backup in {context.Store.Name} for environment '{context.Environment}'; take one with Backup-RedisSnapshot.", context.Environment);
        if (backup.Kind != BackupKinds.Redis || backup.Manifest?.Artifacts.Any(a => a.Name == RedisSnapshot.ArtifactName) != true)
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, $"Backup {backup.Id} is a '{backup.Kind}' backup, not a Redis snapshot (kind redis).", backup.Id);
        }

        return backup;
    }

    /// <summary>Every key <paramref name="filter"/> keeps, in RDB order; with <paramref name="captureValues"/>, each with its value's bytes.</summary>
    public static async IAsyncEnumerable<RdbKey> ListAsync(RepositoryContext context, BackupInfo backup, Func<int, byte[], bool>? filter, bool captureValues,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var artifact = backup.Manifest!.Artifacts.Single(a => a.Name == RedisSnapshot.ArtifactName);
        var channel = Channel.CreateBounded<RdbKey>(new BoundedChannelOptions(256) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var producer = Task.Run(async () =>
        {
            try
            {
                await using var lease = await ReadLease.TakeAsync(context, [backup], $"reading Redis snapshot {backup.Id}", stop.Token).ConfigureAwait(false);
                await using var stream = await ArtifactReader.OpenAsync(context.Store, backup.Prefix + artifact.Path, artifact, context.KeyProviders, stop.Token).ConfigureAwait(false);
                var reader = new RdbReader((m, c) => stream.ReadAsync(m, c), null, $"Snapshot {backup.Id}")
                {
                    CaptureValue = captureValues ? (db, key) => filter?.Invoke(db, key) != false : null,
                };
                await reader.ReadAsync(async (key, c) =>
                {
                    if (filter?.Invoke(key.Database, key.Key) != false)
                    {
                        await channel.Writer.WriteAsync(key, c).ConfigureAwait(false);
                    }
                }, stop.Token).ConfigureAwait(false);
                channel.Writer.Complete();
            }
            catch (Exception ex)
            {
                channel.Writer.Complete(ex);
            }
        }, CancellationToken.None);

        try
        {
            await foreach (var key in channel.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                yield return key;
            }
        }
        finally
        {
            // A consumer that stops early (Select-Object -First) stops the reading too.
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await producer.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
