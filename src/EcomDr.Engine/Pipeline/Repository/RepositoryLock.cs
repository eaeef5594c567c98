using System.Text.Json;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Storage;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// One writer per environment and kind. The lock is an object created only if absent (atomic on a
/// file system), holding who took it and until when its lease runs. The holder renews the lease
/// while it works; a lock whose lease ran out is stale and is taken over. On S3 stores without
/// conditional writes the lock is advisory (docs/format.md).
/// </summary>
public sealed class RepositoryLock : IAsyncDisposable
{
    private readonly IObjectStore _store;
    private readonly string _key;
    private readonly TimeSpan _lease;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewal;
    private LockRecord _record;

    private RepositoryLock(IObjectStore store, string key, LockRecord record, TimeSpan lease)
    {
        _store = store;
        _key = key;
        _record = record;
        _lease = lease;
        _renewal = Task.Run(RenewLoopAsync);
    }

    public string Holder => _record.Holder;

    /// <summary>True when another writer took the lock over; the holder must then abandon its work.</summary>
    public bool Lost { get; private set; }

    public static async Task<RepositoryLock> AcquireAsync(IObjectStore store, string environment, string kind, string holder,
        TimeSpan lease, CancellationToken cancellationToken)
    {
        var key = RepositoryLayout.LockKey(environment, kind);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var now = DateTimeOffset.UtcNow;
            var record = new LockRecord(holder, Environment.MachineName, Environment.ProcessId, now, now + lease, Guid.NewGuid().ToString("N"));
            if (await store.PutIfAbsentAsync(key, Serialize(record), cancellationToken).ConfigureAwait(false))
            {
                return new RepositoryLock(store, key, record, lease);
            }

            var existing = await ReadAsync(store, key, cancellationToken).ConfigureAwait(false);
            if (existing is null)
            {
                continue; // released in between
            }

            if (existing.LeaseUntil > now && !HolderIsGone(existing))
            {
                throw new EcomDrException(ErrorIds.RepositoryLocked, FailureKind.ResourceBusy,
                    $"{environment}/{kind} in {store.Location} is locked by '{existing.Holder}' (host {existing.Host}, pid {existing.ProcessId}) " +
                    $"since {existing.Since:u}; its lease runs until {existing.LeaseUntil:u}.", key);
            }

            // Stale: only one contender may remove it, the one that creates the takeover marker.
            var marker = $"{key}.takeover-{existing.Token}";
            if (await store.PutIfAbsentAsync(marker, Serialize(record), cancellationToken).ConfigureAwait(false))
            {
                await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
                var won = await store.PutIfAbsentAsync(key, Serialize(record), cancellationToken).ConfigureAwait(false);
                await store.DeleteAsync(marker, cancellationToken).ConfigureAwait(false);
                if (won)
                {
                    return new RepositoryLock(store, key, record, lease) { TookOverFrom = existing };
                }
            }
        }

        throw new EcomDrException(ErrorIds.RepositoryLocked, FailureKind.ResourceBusy, $"Could not take the lock {key} in {store.Location}.", key);
    }

    /// <summary>
    /// A holder on this very host whose process no longer exists (killed, crashed) cannot renew: its
    /// lock is stale at once rather than after its lease. A reused PID only delays takeover to the lease.
    /// </summary>
    private static bool HolderIsGone(LockRecord record)
    {
        if (!string.Equals(record.Host, Environment.MachineName, StringComparison.OrdinalIgnoreCase) || record.ProcessId == Environment.ProcessId)
        {
            return false;
        }

        if (OperatingSystem.IsLinux())
        {
            // A killed process whose parent died too can linger as a zombie (state Z) where no init reaps it.
            var stat = $"/proc/{record.ProcessId}/stat";
            try
            {
                var text = File.ReadAllText(stat);
                var state = text[(text.LastIndexOf(')') + 2)..].Split(' ')[0];
                return state is "Z" or "X";
            }
            catch (IOException)
            {
                return true;
            }
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(record.ProcessId);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    /// <summary>Who holds the lock of the kind now (a live, not stale, holder), or null.</summary>
    public static async Task<LockRecord?> LiveHolderAsync(IObjectStore store, string environment, string kind, CancellationToken cancellationToken)
    {
        var existing = await ReadAsync(store, RepositoryLayout.LockKey(environment, kind), cancellationToken).ConfigureAwait(false);
        return existing is not null && existing.LeaseUntil > DateTimeOffset.UtcNow && !HolderIsGone(existing) ? existing : null;
    }

    /// <summary>The stale lock this one replaced, if any (for a warning).</summary>
    public LockRecord? TookOverFrom { get; private init; }

    /// <summary>
    /// Reads a lock. A lock another job is creating this very moment is locked exclusively or still
    /// empty (the file store creates it, then writes it): that state lasts microseconds, so the read
    /// is retried until the record is whole, and only a lock that stays so is judged.
    /// </summary>
    public static async Task<LockRecord?> ReadAsync(IObjectStore store, string key, CancellationToken cancellationToken)
    {
        const int Attempts = 50;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var stream = await store.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
                return await JsonSerializer.DeserializeAsync<LockRecord>(stream, ManifestCodec.Options, cancellationToken).ConfigureAwait(false);
            }
            catch (EcomDrException ex) when (ex.ErrorId == ErrorIds.ArtifactMissing)
            {
                return null;
            }
            catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException)
            {
                if (attempt == Attempts)
                {
                    throw new EcomDrException(ErrorIds.RepositoryLocked, FailureKind.ResourceBusy,
                        $"The lock {key} in {store.Location} stayed open for writing by another job.", key, ex);
                }
            }
            catch (JsonException)
            {
                if (attempt == Attempts)
                {
                    // A lock unreadable for good (a writer killed while creating it) is stale from the start of time.
                    return new LockRecord("(unreadable lock)", "?", 0, DateTimeOffset.MinValue, DateTimeOffset.MinValue, "unreadable");
                }
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads the lock back right before an irreversible step (writing a manifest): renewal only
    /// looks every third of the lease, and a takeover can race a stalled holder's last renewal.
    /// </summary>
    public async Task<bool> IsHeldAsync(CancellationToken cancellationToken)
    {
        if (Lost)
        {
            return false;
        }

        var current = await ReadAsync(_store, _key, cancellationToken).ConfigureAwait(false);
        Lost = current?.Token != _record.Token;
        return !Lost;
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

        var current = await ReadAsync(_store, _key, CancellationToken.None).ConfigureAwait(false);
        if (current?.Token == _record.Token)
        {
            await _store.DeleteAsync(_key, CancellationToken.None).ConfigureAwait(false);
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
                var current = await ReadAsync(_store, _key, _stop.Token).ConfigureAwait(false);
                if (current?.Token != _record.Token)
                {
                    Lost = true; // taken over after this writer stalled past its lease: it must not finish
                    return;
                }

                _record = _record with { LeaseUntil = DateTimeOffset.UtcNow + _lease };
                await _store.PutAsync(_key, Serialize(_record), _stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A renewal that fails (store hiccup, a racing takeover) is retried at the next tick;
                // once the lease has run out without one, the lock can no longer be counted on.
                if (DateTimeOffset.UtcNow > _record.LeaseUntil)
                {
                    Lost = true;
                    return;
                }
            }
        }
    }

    private static byte[] Serialize(LockRecord record) => JsonSerializer.SerializeToUtf8Bytes(record, ManifestCodec.Options);
}

/// <summary>The content of a lock object.</summary>
public sealed record LockRecord(
    string Holder,
    string Host,
    int ProcessId,
    DateTimeOffset Since,
    DateTimeOffset LeaseUntil,
    string Token);
