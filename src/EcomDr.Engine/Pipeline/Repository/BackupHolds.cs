using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>A legal or forensic hold: retention keeps the backup, and the chain it needs, until it is released.</summary>
public sealed record BackupHold(string Id, string Kind, string Environment, string Store, string Reason, string By, DateTimeOffset Since);

/// <summary>
/// Holds live beside the backups, one small object each (&lt;environment&gt;/_holds/&lt;id&gt;.json), not
/// in the signed manifest, which never changes once written. A hold only ever keeps data: someone who
/// can delete it can delete the backup itself.
/// </summary>
public static class BackupHolds
{
    private sealed record HoldRecord(string Id, string Kind, string Reason, string By, DateTimeOffset Since);

    public static async Task<BackupHold> SetAsync(RepositoryContext context, BackupInfo backup, string reason, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, "A hold needs a reason (a ticket, a case number).", backup.Id);
        }

        var record = new HoldRecord(backup.Id, backup.Kind, reason.Trim(), $"{System.Environment.UserName}@{System.Environment.MachineName}", context.Now);
        await StoreRecords.PutAsync(context.Store, RepositoryLayout.HoldKey(context.Environment, backup.Id), record, ct).ConfigureAwait(false);
        return ToHold(record, context);
    }

    /// <summary>Releases a hold; false when there was none.</summary>
    public static async Task<bool> ReleaseAsync(RepositoryContext context, string id, CancellationToken ct)
    {
        var key = RepositoryLayout.HoldKey(context.Environment, id);
        if (await context.Store.StatAsync(key, ct).ConfigureAwait(false) is null)
        {
            return false;
        }

        await context.Store.DeleteAsync(key, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>The holds of the environment in this store, by backup id. An unreadable hold still holds (its id is its name).</summary>
    public static async Task<IReadOnlyDictionary<string, BackupHold>> ListAsync(RepositoryContext context, CancellationToken ct)
    {
        var prefix = $"{context.Environment}/{RepositoryLayout.HoldsFolder}/";
        var holds = new Dictionary<string, BackupHold>(StringComparer.Ordinal);
        await foreach (var (obj, record) in StoreRecords.ReadAllAsync<HoldRecord>(context.Store, prefix, ct).ConfigureAwait(false))
        {
            var id = obj.Key[prefix.Length..^".json".Length];
            holds[id] = record is not null && record.Id == id ? ToHold(record, context) : Unreadable(id, context, obj.Modified);
        }

        return holds;
    }

    private static BackupHold ToHold(HoldRecord r, RepositoryContext context) => new(r.Id, r.Kind, context.Environment, context.Store.Name, r.Reason, r.By, r.Since);

    private static BackupHold Unreadable(string id, RepositoryContext context, DateTimeOffset since) =>
        new(id, "", context.Environment, context.Store.Name, "an unreadable hold record", "", since);
}
