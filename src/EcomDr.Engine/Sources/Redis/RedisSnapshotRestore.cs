using System.Globalization;
using System.Text;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Sources.Redis;

/// <summary>What Restore-RedisSnapshot did: keys loaded, keys already expired (left out), keys refused, per database.</summary>
public sealed record RedisRestoreResult(string BackupId, string Target, long Restored, long Expired, IReadOnlyList<string> Refused, IReadOnlyDictionary<int, long> PerDatabase)
{
    public override string ToString() => $"{Restored} key(s) from {BackupId} into {Target}";
}

/// <summary>
/// Loads keys of a Redis snapshot into a chosen Redis, a forensic sandbox, with RESTORE key ttl payload:
/// each payload is made from the RDB's own bytes (<see cref="RdbKey.DumpPayload"/>), never decoded and
/// encoded again, and keys keep their absolute expiry (ABSTTL). A target that holds any key is refused
/// before anything is written unless <c>replace</c>; keys already expired are left out and counted.
/// </summary>
public static class RedisSnapshotRestore
{
    private const int Batch = 64;

    public static async Task EnsureTargetAsync(RespConnection target, bool replace, CancellationToken ct)
    {
        var keyspace = await target.CommandAsync(ct, "INFO", "keyspace").ConfigureAwait(false);
        if (keyspace.IsError)
        {
            throw new EcomDrException(ErrorIds.PermissionDenied, FailureKind.PermissionDenied,
                $"Redis at {target.Endpoint.Display} refused INFO keyspace ({keyspace.Text}): whether it holds keys cannot be checked.", target.Endpoint.Display);
        }

        var held = keyspace.AsText().Split('\n').Where(l => l.StartsWith("db", StringComparison.Ordinal)).Select(l => l.Trim()).ToList();
        if (held.Count > 0 && !replace)
        {
            throw new EcomDrException(ErrorIds.TargetNotEmpty, FailureKind.ResourceExists,
                $"Redis at {target.Endpoint.Display} already holds keys ({string.Join("; ", held)}); load a snapshot into an empty one, or pass -Replace.", target.Endpoint.Display);
        }
    }

    public static async Task<RedisRestoreResult> RunAsync(RepositoryContext context, BackupInfo backup, RedisEndpoint endpoint, Func<int, byte[], bool>? filter, bool replace,
        IProgress<long>? progress, CancellationToken ct)
    {
        await using var target = await RespConnection.ConnectAsync(endpoint, ct).ConfigureAwait(false);
        await EnsureTargetAsync(target, replace, ct).ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        var perDatabase = new SortedDictionary<int, long>();
        var refused = new List<string>();
        long restored = 0, expired = 0;
        var selected = -1;
        // A null key marks a SELECT.
        var pending = new List<(RdbKey? Key, IReadOnlyList<ReadOnlyMemory<byte>> Command)>();
        async Task FlushAsync()
        {
            if (pending.Count == 0)
            {
                return;
            }

            var replies = await target.PipelineAsync(pending.Select(p => p.Command).ToList(), ct).ConfigureAwait(false);
            for (var i = 0; i < replies.Count; i++)
            {
                if (pending[i].Key is not { } key)
                {
                    if (replies[i].IsError)
                    {
                        throw new EcomDrException(ErrorIds.ConnectionFailed, FailureKind.InvalidOperation,
                            $"Redis at {endpoint.Display} refused {Encoding.UTF8.GetString(pending[i].Command[0].Span)} {Encoding.UTF8.GetString(pending[i].Command[1].Span)}: {replies[i].Text} (its 'databases' setting is lower than the snapshot's).", endpoint.Display);
                    }

                    continue;
                }

                if (replies[i].IsError)
                {
                    if (replies[i].Text?.Contains("payload version", StringComparison.OrdinalIgnoreCase) == true)
                    {
                        throw new EcomDrException(ErrorIds.RdbUnsupported, FailureKind.InvalidOperation,
                            $"Redis at {endpoint.Display} cannot load RDB version {key.RdbVersion} values ({replies[i].Text}): load the snapshot into a Redis as new as the one it came from.", endpoint.Display);
                    }

                    refused.Add($"db{key.Database} {key.KeyText}: {replies[i].Text}");
                    continue;
                }

                restored++;
                perDatabase[key.Database] = perDatabase.GetValueOrDefault(key.Database) + 1;
            }

            pending.Clear();
            progress?.Report(restored);
        }

        await foreach (var key in RedisSnapshotKeys.ListAsync(context, backup, filter, captureValues: true, ct).ConfigureAwait(false))
        {
            if (key.ExpiresAt is { } at && at <= now)
            {
                expired++;
                continue;
            }

            if (key.DumpPayload() is not { } payload)
            {
                refused.Add($"db{key.Database} {key.KeyText}: its value is larger than 512 MiB");
                continue;
            }

            if (key.Database != selected)
            {
                pending.Add((null, [Bytes("SELECT"), Bytes(key.Database.ToString(CultureInfo.InvariantCulture))]));
                selected = key.Database;
            }

            var command = new List<ReadOnlyMemory<byte>> { Bytes("RESTORE"), key.Key, Bytes(key.ExpiresAt is { } e ? e.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) : "0"), payload };
            if (replace)
            {
                command.Add(Bytes("REPLACE"));
            }

            if (key.ExpiresAt is not null)
            {
                command.Add(Bytes("ABSTTL"));
            }

            pending.Add((key, command));
            if (pending.Count >= Batch)
            {
                await FlushAsync().ConfigureAwait(false);
            }
        }

        await FlushAsync().ConfigureAwait(false);
        return new RedisRestoreResult(backup.Id, endpoint.Display, restored, expired, refused, perDatabase);
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
