using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Pipeline.Storage;
using EcomDr.Engine.Sources.MySql.Snapshots;

namespace EcomDr.Engine.Operations.Retention;

/// <summary>Why a volume snapshot's provider delete failed, and since when: &lt;environment&gt;/_snapshot-retry/&lt;id&gt;.json.</summary>
public sealed record SnapshotDeleteRetry(string Id, DateTimeOffset FirstFailed, DateTimeOffset LastFailed, int Attempts, string Error);

/// <summary>
/// Expiring a mysql-snapshot backup deletes its provider snapshots (the primary and every offsite copy)
/// before anything of the backup goes: if the provider fails, the backup stays whole, marked for a retry
/// that the next retention run makes, and the manifest is never lost first. A provider delete must
/// succeed for a snapshot that is already gone (a retried delete).
/// </summary>
public sealed class SnapshotExpiry(RepositoryContext context, ISnapshotProvider? provider)
{
    public const string Folder = "_snapshot-retry";

    public static string KeyOf(string environment, string id) => $"{environment}/{Folder}/{id}.json";

    /// <summary>Deletes the backup's provider snapshots; null when done, else why not (the backup is then marked for a retry).</summary>
    public async Task<string?> DeleteSnapshotsAsync(BackupInfo backup, CancellationToken ct)
    {
        if (backup.Kind != BackupKinds.MySqlSnapshot || backup.Status != BackupStatus.Complete)
        {
            return null;
        }

        string? error = null;
        try
        {
            var (primary, copies) = SnapshotRecord.Of(backup);
            if (provider is null)
            {
                error = $"no volumeSnapshot provider is configured here to delete its {primary.Provider} snapshot(s) {string.Join(", ", primary.Ids)}";
            }
            else if (provider.Name != primary.Provider)
            {
                error = $"its snapshot(s) were taken by the {primary.Provider} provider, and the {provider.Name} provider is configured";
            }
            else
            {
                foreach (var copy in copies)
                {
                    await provider.DeleteAsync(copy, ct).ConfigureAwait(false);
                }

                await provider.DeleteAsync(primary, ct).ConfigureAwait(false);
            }
        }
        catch (EcomDrException ex)
        {
            error = ex.Message;
        }
        catch (IOException ex)
        {
            error = ex.Message;
        }

        var key = KeyOf(context.Environment, backup.Id);
        if (error is null)
        {
            if (await context.Store.StatAsync(key, CancellationToken.None).ConfigureAwait(false) is not null)
            {
                await context.Store.DeleteAsync(key, CancellationToken.None).ConfigureAwait(false);
            }

            return null;
        }

        var previous = await ReadAsync(key, ct).ConfigureAwait(false);
        var now = context.Now;
        await StoreRecords.PutAsync(context.Store, key, new SnapshotDeleteRetry(backup.Id, previous?.FirstFailed ?? now, now, (previous?.Attempts ?? 0) + 1, error), CancellationToken.None)
            .ConfigureAwait(false);
        return error;
    }

    /// <summary>Every backup whose snapshot delete is waiting for a retry.</summary>
    public static async Task<IReadOnlyList<SnapshotDeleteRetry>> PendingAsync(RepositoryContext context, CancellationToken ct)
    {
        var pending = new List<SnapshotDeleteRetry>();
        await foreach (var (_, record) in StoreRecords.ReadAllAsync<SnapshotDeleteRetry>(context.Store, $"{context.Environment}/{Folder}/", ct).ConfigureAwait(false))
        {
            if (record is not null)
            {
                pending.Add(record);
            }
        }

        return pending;
    }

    private async Task<SnapshotDeleteRetry?> ReadAsync(string key, CancellationToken ct)
    {
        if (await context.Store.StatAsync(key, ct).ConfigureAwait(false) is null)
        {
            return null;
        }

        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<SnapshotDeleteRetry>(await context.Store.ReadAllAsync(key, ct).ConfigureAwait(false), ManifestCodec.Options);
        }
        catch (System.Text.Json.JsonException)
        {
            return null; // a damaged mark counts from here
        }
    }
}
