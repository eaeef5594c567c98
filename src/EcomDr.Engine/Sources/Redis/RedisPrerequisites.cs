using System.Globalization;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Prerequisites;

namespace EcomDr.Engine.Sources.Redis;

/// <summary>
/// What Test-DrPrerequisite checks of the Redis a snapshot reads, as the snapshot's own user: the login,
/// the right to SYNC and REPLCONF, the server version (rdb-only needs 6.2), repl-diskless-sync-delay
/// (seconds added to each snapshot), the replica output-buffer limit against used_memory, and
/// rdbchecksum. No check starts a transfer. A problem is a result with its remedy, never an exception.
/// </summary>
public static class RedisPrerequisites
{
    public static async Task<IReadOnlyList<PrerequisiteResult>> RunAsync(RedisEndpoint endpoint, CancellationToken ct)
    {
        var where = endpoint.Display;
        var user = endpoint.User ?? "default";
        var results = new List<PrerequisiteResult>();
        RespConnection connection;
        try
        {
            connection = await RespConnection.ConnectAsync(endpoint, ct).ConfigureAwait(false);
        }
        catch (EcomDrException ex)
        {
            results.Add(new PrerequisiteResult(where, "Redis login", CheckStatus.Fail, $"{ex.ErrorId}: {ex.Message}", "a reachable Redis that accepts the user",
                "Check redis.server, port, tls and the credential (docs/configuration.md, \"redis\")."));
            return results;
        }

        await using (connection)
        {
            results.Add(new PrerequisiteResult(where, "Redis login", CheckStatus.Pass, $"as '{user}'{(endpoint.Tls == Config.RedisTlsMode.None ? "" : $", TLS {endpoint.Tls}")}", "a login", ""));
            results.Add(await SyncRightAsync(connection, where, user, ct).ConfigureAwait(false));
            var info = await ReadInfoAsync(connection, ct).ConfigureAwait(false);
            var version = info.GetValueOrDefault("redis_version");
            var modern = version is not null && Version.TryParse(version, out var v) && v >= new Version(6, 2);
            results.Add(version is null
                ? new PrerequisiteResult(where, "Redis version", CheckStatus.Warn, "INFO refused", "6.2 or later (REPLCONF rdb-only)", $"Grant INFO: ACL SETUSER {user} +info.")
                : new PrerequisiteResult(where, "Redis version", modern ? CheckStatus.Pass : CheckStatus.Warn, version, "6.2 or later (REPLCONF rdb-only)",
                    modern ? "" : "Before 6.2 the server buffers its write stream for the snapshot's connection; keep client-output-buffer-limit replica above that."));
            var config = await ConfigAsync(connection, ["repl-diskless-sync", "repl-diskless-sync-delay", "client-output-buffer-limit", "rdbchecksum"], ct).ConfigureAwait(false);
            if (config is null)
            {
                results.Add(new PrerequisiteResult(where, "Redis settings", CheckStatus.Warn, "CONFIG GET refused", "readable settings",
                    $"Grant it to read the settings below: ACL SETUSER {user} +config|get."));
                return results;
            }

            var delay = int.TryParse(config.GetValueOrDefault("repl-diskless-sync-delay"), NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d : 0;
            var diskless = config.GetValueOrDefault("repl-diskless-sync") == "yes";
            results.Add(new PrerequisiteResult(where, "Redis repl-diskless-sync-delay", diskless && delay > 0 ? CheckStatus.Warn : CheckStatus.Pass,
                diskless ? $"{delay} s (diskless sync)" : $"{delay} s (disk-based sync: not used)", "0 s for diskless sync",
                diskless && delay > 0 ? $"Each snapshot waits {delay} s for more replicas before it starts; CONFIG SET repl-diskless-sync-delay 0 if no replica needs it." : ""));
            results.Add(BufferLimit(where, config.GetValueOrDefault("client-output-buffer-limit"), info.GetValueOrDefault("used_memory"), modern));
            var checksum = config.GetValueOrDefault("rdbchecksum");
            results.Add(new PrerequisiteResult(where, "Redis rdbchecksum", checksum == "yes" ? CheckStatus.Pass : CheckStatus.Warn, checksum ?? "?", "yes",
                checksum == "yes" ? "" : "Snapshots carry no CRC-64 and are recorded as unverified: CONFIG SET rdbchecksum yes."));
        }

        return results;
    }

    // ACL DRYRUN answers for any user, but needs the right to run it; a snapshot user usually lacks it.
    private static async Task<PrerequisiteResult> SyncRightAsync(RespConnection connection, string where, string user, CancellationToken ct)
    {
        const string Expected = "+sync +replconf";
        var remedy = $"ACL SETUSER {user} +sync +replconf (not all of @admin).";
        var replconf = await connection.CommandAsync(ct, "REPLCONF", "capa", "eof").ConfigureAwait(false);
        if (replconf.IsError)
        {
            return new PrerequisiteResult(where, "Redis SYNC right", CheckStatus.Fail, $"REPLCONF refused: {replconf.Text}", Expected, remedy);
        }

        var dryRun = await connection.CommandAsync(ct, "ACL", "DRYRUN", user, "SYNC").ConfigureAwait(false);
        if (!dryRun.IsError && dryRun.Kind == '+')
        {
            return new PrerequisiteResult(where, "Redis SYNC right", CheckStatus.Pass, "REPLCONF and SYNC allowed (ACL DRYRUN)", Expected, "");
        }

        if (!dryRun.IsError)
        {
            return new PrerequisiteResult(where, "Redis SYNC right", CheckStatus.Fail, $"SYNC refused: {dryRun.AsText()}", Expected, remedy);
        }

        return new PrerequisiteResult(where, "Redis SYNC right", CheckStatus.Warn, "REPLCONF allowed; SYNC not checked (ACL DRYRUN refused to this user)", Expected,
            $"Make sure of it: ACL DRYRUN {user} SYNC, as an administrator; or {remedy}");
    }

    private static PrerequisiteResult BufferLimit(string where, string? limits, string? usedMemory, bool rdbOnly)
    {
        const string Check = "Redis replica output buffer";
        var parts = limits?.Split(' ') ?? [];
        var index = Array.FindIndex(parts, p => p is "replica" or "slave");
        var hard = index >= 0 && index + 1 < parts.Length && long.TryParse(parts[index + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var h) ? h : -1;
        var used = long.TryParse(usedMemory, NumberStyles.None, CultureInfo.InvariantCulture, out var u) ? u : -1;
        if (hard < 0)
        {
            return new PrerequisiteResult(where, Check, CheckStatus.Warn, limits ?? "?", "a replica limit", "");
        }

        var observed = $"hard limit {(hard == 0 ? "none" : $"{hard:N0} bytes")}, used_memory {(used < 0 ? "?" : $"{used:N0} bytes")}";
        // With rdb-only the server buffers no write stream for the snapshot: the limit cannot cut it.
        if (rdbOnly || hard == 0 || (used >= 0 && hard >= used))
        {
            return new PrerequisiteResult(where, Check, CheckStatus.Pass, observed + (rdbOnly ? " (rdb-only: no write stream is buffered)" : ""), "no cut-off during a snapshot", "");
        }

        return new PrerequisiteResult(where, Check, CheckStatus.Warn, observed, "a hard limit above used_memory",
            "The server may drop the snapshot's connection while it writes; raise client-output-buffer-limit replica, or upgrade to 6.2+.");
    }

    private static async Task<Dictionary<string, string>> ReadInfoAsync(RespConnection connection, CancellationToken ct)
    {
        var reply = await connection.CommandAsync(ct, "INFO").ConfigureAwait(false);
        var info = new Dictionary<string, string>(StringComparer.Ordinal);
        if (reply.IsError)
        {
            return info;
        }

        foreach (var line in reply.AsText().Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && !line.StartsWith('#'))
            {
                info[line[..colon]] = line[(colon + 1)..].TrimEnd('\r');
            }
        }

        return info;
    }

    private static async Task<Dictionary<string, string>?> ConfigAsync(RespConnection connection, string[] names, CancellationToken ct)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var reply = await connection.CommandAsync(ct, "CONFIG", "GET", name).ConfigureAwait(false);
            if (reply.IsError)
            {
                return null;
            }

            var items = reply.Items ?? [];
            for (var i = 0; i + 1 < items.Count; i += 2)
            {
                result[items[i].AsText()] = items[i + 1].AsText();
            }
        }

        return result;
    }
}
