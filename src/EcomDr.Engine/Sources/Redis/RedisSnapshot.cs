using System.Globalization;
using System.Text.Json.Nodes;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Sources.Redis;

/// <summary>What a snapshot run produced: the backup, what the RDB said about itself, and warnings.</summary>
public sealed record RedisSnapshotResult(BackupInfo Backup, RdbSummary Rdb, bool Diskless, IReadOnlyList<string> Warnings);

/// <summary>
/// Backup-RedisSnapshot's engine: the server's RDB, fetched over the replication protocol, streamed into
/// one artifact (dump.rdb: zstd, AES-256-GCM, SHA-256, signed manifest) while it is read through
/// whole (RdbReader: every key, the version, the CRC-64). The backup is completed only when the RDB
/// checked out to its last byte; a cut transfer or a damaged byte leaves an incomplete backup.
/// </summary>
public static class RedisSnapshot
{
    public const string ArtifactName = "dump.rdb";

    public static async Task<RedisSnapshotResult> RunAsync(Pipeline.Repository.RepositoryContext context, RedisEndpoint endpoint, IReadOnlyList<int> expectedDatabases,
        IReadOnlyDictionary<string, string>? labels, IProgress<long>? progress, CancellationToken ct)
    {
        await using var connection = await RespConnection.ConnectAsync(endpoint, ct).ConfigureAwait(false);
        var transfer = await RdbTransfer.StartAsync(connection, ct).ConfigureAwait(false);
        var warnings = new List<string>(transfer.Warnings);
        await using var writer = await BackupWriter.BeginAsync(context, BackupKinds.Redis, labels, ct).ConfigureAwait(false);
        RdbSummary? summary = null;
        var where = $"The RDB of {endpoint.Display}";
        await writer.AddArtifactAsync(ArtifactName, async (plain, c) =>
        {
            var reader = new RdbReader(transfer.ReadAsync, async (bytes, cc) =>
            {
                await plain.WriteAsync(bytes, cc).ConfigureAwait(false);
                progress?.Report(transfer.Delivered);
            }, where);
            summary = await reader.ReadAsync(null, c).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);

        var rdb = summary!;
        foreach (var (name, label) in new[] { ("redis-ver", "redisVersion"), ("ctime", "ctime"), ("used-mem", "usedMem"), ("repl-id", "replId"), ("repl-offset", "replOffset") })
        {
            if (rdb.Aux.TryGetValue(name, out var value))
            {
                writer.Labels[name] = value;
                writer.Source[label] = value;
            }
        }

        var perDatabase = new JsonObject(rdb.KeysPerDatabase.Select(d => KeyValuePair.Create(d.Key.ToString(CultureInfo.InvariantCulture), (JsonNode?)d.Value)));
        writer.Labels["keys"] = string.Join(",", rdb.KeysPerDatabase.Select(d => $"db{d.Key}={d.Value}"));
        writer.Source["server"] = endpoint.Display;
        writer.Source["rdbVersion"] = rdb.Version;
        writer.Source["keys"] = rdb.Keys;
        writer.Source["keysPerDatabase"] = perDatabase;
        writer.Source["checksum"] = rdb.ChecksumVerified ? "verified" : "unverified";
        writer.Source["transfer"] = transfer.Diskless ? "diskless" : "disk";
        writer.Stats["rdbBytes"] = rdb.Bytes;
        writer.Stats["functions"] = rdb.Functions;
        writer.Stats["moduleAux"] = rdb.ModuleAux;
        if (!rdb.ChecksumVerified)
        {
            warnings.Add($"{where} carries no checksum (rdbchecksum no on the server): it was read through whole, but damage to a value's bytes cannot be told. It is recorded as unverified.");
        }

        foreach (var db in expectedDatabases.Where(d => !rdb.KeysPerDatabase.ContainsKey(d)))
        {
            warnings.Add($"Database {db} was expected to hold keys (redis.databases) and holds none in this snapshot.");
        }

        return new RedisSnapshotResult(await writer.CompleteAsync(ct).ConfigureAwait(false), rdb, transfer.Diskless, warnings);
    }
}
