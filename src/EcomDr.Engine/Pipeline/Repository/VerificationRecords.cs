namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>The outcome of a backup's last verification in a store, for the inventory.</summary>
public sealed record VerificationRecord(string Id, string Kind, string Status, bool Deep, DateTimeOffset At, int Failed)
{
    public override string ToString() => $"{Status}{(Deep ? " (deep)" : "")} {At.UtcDateTime:yyyy-MM-dd HH:mm}Z";
}

/// <summary>
/// &lt;environment&gt;/_verified/&lt;id&gt;.json: what Test-BackupIntegrity found last. Best effort: a store
/// that refuses the write (read-only credentials) still gets verified, the inventory then says "never".
/// </summary>
public static class VerificationRecords
{
    public const string Folder = "_verified";

    public static string KeyOf(string environment, string id) => $"{environment}/{Folder}/{id}.json";

    public static async Task RecordAsync(RepositoryContext context, IntegrityReport report, CancellationToken ct)
    {
        var record = new VerificationRecord(report.BackupId, report.Kind, report.Status.ToString(), report.Deep, DateTimeOffset.UtcNow, report.FailedCount);
        try
        {
            await StoreRecords.PutAsync(context.Store, KeyOf(context.Environment, report.BackupId), record, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Not recorded: the verification itself stands.
        }
    }

    public static async Task<IReadOnlyDictionary<string, VerificationRecord>> ListAsync(RepositoryContext context, CancellationToken ct)
    {
        var prefix = $"{context.Environment}/{Folder}/";
        var records = new Dictionary<string, VerificationRecord>(StringComparer.Ordinal);
        await foreach (var (_, record) in StoreRecords.ReadAllAsync<VerificationRecord>(context.Store, prefix, ct).ConfigureAwait(false))
        {
            if (record is not null)
            {
                records[record.Id] = record;
            }
        }

        return records;
    }
}
