namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// Deletes a backup from a store. The manifest goes first, so an interrupted removal leaves an
/// incomplete backup (never a restorable one with missing artifacts); the rest follows.
/// </summary>
public static class BackupRemover
{
    public static async Task<int> RemoveAsync(RepositoryContext context, BackupInfo backup, CancellationToken cancellationToken)
    {
        var prefix = backup.Prefix;
        var manifestKey = prefix + RepositoryLayout.ManifestName;
        var keys = new List<string>();
        await foreach (var obj in context.Store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            keys.Add(obj.Key);
        }

        if (keys.Remove(manifestKey))
        {
            await context.Store.DeleteAsync(manifestKey, CancellationToken.None).ConfigureAwait(false);
        }

        foreach (var key in keys)
        {
            // Not cancellable midway: once the manifest is gone, finishing is the tidy outcome.
            await context.Store.DeleteAsync(key, CancellationToken.None).ConfigureAwait(false);
        }

        // Its last verification goes with it (a hold stays: it was asked for by a person).
        var verified = VerificationRecords.KeyOf(context.Environment, backup.Id);
        if (await context.Store.StatAsync(verified, CancellationToken.None).ConfigureAwait(false) is not null)
        {
            await context.Store.DeleteAsync(verified, CancellationToken.None).ConfigureAwait(false);
        }

        return keys.Count + 1;
    }
}
