using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Dump;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>
/// What a store can still restore: its complete full backups and the binlog chain they lie on. It
/// answers what removing a full backup would make unrecoverable, before anything is removed.
/// </summary>
public static class RecoveryWindow
{
    /// <summary>The complete full backups on the current chain, oldest first (see <see cref="BinlogChain.BasesOf"/>).</summary>
    public static async Task<(BinlogChain Chain, IReadOnlyList<BackupInfo> Fulls, IReadOnlyList<BackupInfo> Bases)> LoadAsync(RepositoryContext context, CancellationToken ct,
        CatalogDetail detail = CatalogDetail.Full)
    {
        var chain = await BinlogChain.LoadAsync(context, ct, detail).ConfigureAwait(false);
        var fulls = (await BackupCatalog.ListAsync(context, DumpOptions.Kind, ct, detail).ConfigureAwait(false)).Where(b => b.Status == BackupStatus.Complete).ToList();
        return (chain, fulls, chain.BasesOf(fulls));
    }

    /// <summary>What becomes unrecoverable from this store if <paramref name="backup"/> goes; empty when nothing does.</summary>
    public static async Task<IReadOnlyList<string>> LostByRemovingAsync(RepositoryContext context, BackupInfo backup, DateTimeOffset now, CancellationToken ct)
    {
        if (backup.Kind != DumpOptions.Kind || backup.Status != BackupStatus.Complete)
        {
            return Array.Empty<string>();
        }

        var (_, fulls, bases) = await LoadAsync(context, ct).ConfigureAwait(false);
        var lost = new List<string>();
        if (fulls.All(f => f.Id == backup.Id))
        {
            lost.Add($"it is the only complete {DumpOptions.Kind} backup of '{context.Environment}' in {context.Store.Name}: nothing of it can be restored from this store until the next full backup");
        }

        // Only the oldest base opens the window: from a later one, the older base still replays through.
        if (bases.Count > 0 && bases[0].Id == backup.Id)
        {
            var until = bases.Count > 1 ? $"{(bases[1].Completed ?? bases[1].Created):u} (backup {bases[1].Id})" : $"now ({now:u})";
            lost.Add($"it is the oldest full backup on the current binlog chain: the points in time from {(backup.Completed ?? backup.Created):u} to {until} can no longer be recovered");
        }

        return lost;
    }
}
