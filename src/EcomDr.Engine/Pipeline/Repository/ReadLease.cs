using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Storage;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// A reader's claim on the backups it reads (a restore, a point-in-time recovery, a drill, a copy, a
/// verification): one object, &lt;environment&gt;/_leases/&lt;token&gt;.json, renewed every third of its
/// lease and deleted at the end. Retention keeps a leased backup, so nothing is deleted mid-restore; a
/// lease whose holder died runs out by itself.
/// </summary>
public sealed class ReadLease : IAsyncDisposable
{
    public const string Folder = "_leases";
    public static readonly TimeSpan DefaultLease = TimeSpan.FromMinutes(2);

    private readonly IObjectStore _store;
    private readonly string _key;
    private readonly TimeSpan _lease;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewal;
    private LeaseRecord _record;

    private ReadLease(IObjectStore store, string key, LeaseRecord record, TimeSpan lease, bool held)
    {
        _store = store;
        _key = key;
        _record = record;
        _lease = lease;
        Held = held;
        _renewal = held ? Task.Run(RenewLoopAsync) : Task.CompletedTask;
    }

    /// <summary>
    /// False when the store would not take the lease (read-only credentials, an auditor): the reader
    /// goes on, since a restore matters more than retention's manners, but retention is not held off.
    /// </summary>
    public bool Held { get; }

    /// <summary>
    /// Takes a lease on <paramref name="backups"/>, then checks that each is still complete: a backup
    /// retention removed in between is refused here, before anything is read or changed.
    /// </summary>
    public static Task<ReadLease> TakeAsync(RepositoryContext context, IEnumerable<BackupInfo> backups, string holder, CancellationToken ct,
        TimeSpan? lease = null) => TakeAsync(context, backups.Select(b => (b.Kind, b.Id)), holder, ct, lease, requireComplete: true);

    /// <summary>A lease by kind and id; with <paramref name="requireComplete"/> false (a verification) a missing manifest is the caller's finding, not an error.</summary>
    public static async Task<ReadLease> TakeAsync(RepositoryContext context, IEnumerable<(string Kind, string Id)> backups, string holder, CancellationToken ct,
        TimeSpan? lease, bool requireComplete)
    {
        var list = backups.ToList();
        var length = lease ?? DefaultLease;
        var token = Guid.NewGuid().ToString("N");
        var record = new LeaseRecord(holder, System.Environment.MachineName, System.Environment.ProcessId, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow + length,
            list.Select(b => b.Id).Distinct().ToList());
        var key = $"{context.Environment}/{Folder}/{token}.json";
        var held = true;
        try
        {
            await StoreRecords.PutAsync(context.Store, key, record, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            held = false;
        }

        var taken = new ReadLease(context.Store, key, record, length, held);
        try
        {
            foreach (var backup in requireComplete ? list : [])
            {
                if (await context.Store.StatAsync(RepositoryLayout.ManifestKey(context.Environment, backup.Kind, backup.Id), ct).ConfigureAwait(false) is null)
                {
                    throw new EcomDrException(ErrorIds.BackupIncomplete, FailureKind.ObjectNotFound,
                        $"Backup {backup.Kind}/{backup.Id} was removed from {context.Store.Location} (by retention?) after it was chosen; nothing was read or changed.", backup.Id);
                }
            }

            return taken;
        }
        catch
        {
            await taken.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The backups under a live lease in this store, each with who holds it.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> ActiveAsync(RepositoryContext context, CancellationToken ct)
    {
        var prefix = $"{context.Environment}/{Folder}/";
        var leased = new Dictionary<string, string>(StringComparer.Ordinal);
        var now = DateTimeOffset.UtcNow;
        // An unreadable lease was released while listed, or is being written: a live reader renews it readable.
        await foreach (var (_, record) in StoreRecords.ReadAllAsync<LeaseRecord>(context.Store, prefix, ct).ConfigureAwait(false))
        {
            if (record is not null && record.LeaseUntil > now)
            {
                foreach (var id in record.Backups)
                {
                    leased.TryAdd(id, $"{record.Holder} on {record.Host} (pid {record.ProcessId}) since {record.Since:u}");
                }
            }
        }

        return leased;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try
        {
            await _renewal.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        try
        {
            if (Held)
            {
                await _store.DeleteAsync(_key, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // Left behind, it runs out by itself.
        }

        _stop.Dispose();
    }

    private async Task RenewLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            await Task.Delay(_lease / 3, _stop.Token).ConfigureAwait(false);
            try
            {
                _record = _record with { LeaseUntil = DateTimeOffset.UtcNow + _lease };
                await StoreRecords.PutAsync(_store, _key, _record, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Retried at the next tick; a reader that cannot renew for a whole lease is no longer protected.
            }
        }
    }

    private sealed record LeaseRecord(string Holder, string Host, int ProcessId, DateTimeOffset Since, DateTimeOffset LeaseUntil, List<string> Backups);
}
