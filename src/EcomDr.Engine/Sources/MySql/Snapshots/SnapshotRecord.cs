using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Sources.MySql.Snapshots;

/// <summary>
/// A mysql-snapshot backup's record of its provider snapshots, in the manifest's source as "snapshot":
/// { provider, ids, region, encrypted, copies: [{ ids, region, encrypted }] }.
/// </summary>
public static class SnapshotRecord
{
    public static JsonObject ToJson(SnapshotTaken taken, SnapshotTaken? offsite)
    {
        var record = Entry(taken);
        record["provider"] = taken.Provider;
        record["copies"] = offsite is null ? new JsonArray() : new JsonArray(Entry(offsite));
        return record;
    }

    /// <summary>The snapshot and its copies a backup records; a clear error for a backup of another kind.</summary>
    public static (SnapshotTaken Primary, IReadOnlyList<SnapshotTaken> Copies) Of(BackupInfo backup)
    {
        if (backup.Kind != BackupKinds.MySqlSnapshot || backup.Source["snapshot"] is not JsonObject record)
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument,
                $"Backup {backup.Id} is a {backup.Kind} backup, not a volume snapshot (mysql-snapshot).", backup.Id);
        }

        var provider = (string?)record["provider"] ?? "";
        var copies = (record["copies"] as JsonArray ?? new JsonArray()).OfType<JsonObject>().Select(c => Read(provider, c)).ToList();
        return (Read(provider, record), copies);
    }

    private static JsonObject Entry(SnapshotTaken taken) => new()
    {
        ["ids"] = new JsonArray(taken.Ids.Select(i => (JsonNode)i).ToArray()),
        ["region"] = taken.Region,
        ["encrypted"] = taken.Encrypted,
    };

    private static SnapshotTaken Read(string provider, JsonObject entry) =>
        new(provider, (entry["ids"] as JsonArray ?? new JsonArray()).Select(i => (string?)i ?? "").Where(i => i.Length > 0).ToList(), (string?)entry["region"],
            (bool?)entry["encrypted"] ?? false);
}
