using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using EcomDr.Engine.Sources.MySql.Pitr;
using EcomDr.Engine.Sources.MySql.Shared;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>Where a server's binlog ends now, and its GTID state (MariaDB gtid_binlog_pos, MySQL gtid_executed).</summary>
public sealed record ServerBinlogState(string File, long Position, string GtidState, DateTimeOffset? OldestUnshipped);

/// <summary>
/// What a disaster now would lose, read from the server: its GTID state, and the commit time of the
/// oldest transaction it holds past what was shipped. Events that are not transactions (MariaDB's
/// BINLOG_CHECKPOINT after a rotation, heartbeats) lose nothing. The server is read as a replica
/// would, non-blocking, with a server id of its own so a running Send-Binlog -Follow is not cut off.
/// </summary>
public static class UnshippedProbe
{
    public static async Task<ServerBinlogState?> ReadAsync(MySqlEndpoint endpoint, BinlogCoordinate? shippedTo, string shippedGtids, CancellationToken ct)
    {
        string gtid;
        BinlogCoordinate? end;
        await using (var c = await MySqlConnections.OpenAsync(endpoint, ct).ConfigureAwait(false))
        {
            var facts = await ServerFacts.ReadAsync(c, ct).ConfigureAwait(false);
            end = await BinlogStatus.CurrentAsync(endpoint, ct).ConfigureAwait(false);
            await using var cmd = new MySqlCommand(facts.Flavor == ServerFlavor.MariaDb ? "SELECT @@GLOBAL.gtid_binlog_pos" : "SELECT @@GLOBAL.gtid_executed", c);
            gtid = (Convert.ToString(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false)) ?? "").Replace("\n", "", StringComparison.Ordinal);
        }

        if (end is not { } server)
        {
            return null;
        }

        if (shippedTo is not { } from)
        {
            return new ServerBinlogState(server.File, server.Position, gtid, null);
        }

        // Every GTID the server holds was shipped: nothing to lose, without reading its binlog.
        if (gtid.Length > 0 && Covered(gtid, shippedGtids))
        {
            return new ServerBinlogState(server.File, server.Position, gtid, null);
        }

        await foreach (var transaction in TransactionReader.ReadAsync(EventsAsync(endpoint, from, ct), 1 << 20, ct).ConfigureAwait(false))
        {
            await using (transaction.ConfigureAwait(false))
            {
                if (transaction.End == TransactionEnd.Committed)
                {
                    return new ServerBinlogState(server.File, server.Position, gtid, transaction.CommitTime ?? DateTimeOffset.UtcNow);
                }
            }
        }

        return new ServerBinlogState(server.File, server.Position, gtid, null);
    }

    /// <summary>Whether every GTID of the server's state is in what was shipped (MariaDB: per domain; MySQL: by set).</summary>
    private static bool Covered(string server, string shipped)
    {
        foreach (var part in server.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (GtidSets.MariaDb(part) is not null)
            {
                if (GtidSets.Contains(shipped, part) != true)
                {
                    return false;
                }

                continue;
            }

            // MySQL uuid:1-100:102 — the highest number of each interval must be shipped.
            var fields = part.Split(':');
            foreach (var interval in fields.Skip(1).Where(f => f.Length > 0 && char.IsAsciiDigit(f[0])))
            {
                if (GtidSets.Contains(shipped, $"{fields[0]}:{interval[(interval.IndexOf('-', StringComparison.Ordinal) + 1)..]}") != true)
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static async IAsyncEnumerable<ArchivedEvent> EventsAsync(MySqlEndpoint endpoint, BinlogCoordinate from, [EnumeratorCancellation] CancellationToken ct)
    {
        var id = 4_000_000_000u + (uint)RandomNumberGenerator.GetInt32(1, 200_000_000);
        await using var dump = await BinlogDumpClient.StartAsync(endpoint, new BinlogDumpRequest(id, from.File, from.Position, NonBlocking: true), ct).ConfigureAwait(false);
        var file = from.File;
        while (await dump.ReadAsync(ct).ConfigureAwait(false) is { } e)
        {
            if (e.Type == BinlogEventType.Rotate)
            {
                file = BinlogDecoders.Rotate(e).NextFile;
                continue;
            }

            // The client's buffer is reused: the reader keeps a copy.
            var raw = e.Raw.ToArray();
            yield return new ArchivedEvent(file, e with { Raw = raw, Body = raw.AsMemory(BinlogEventHeader.Size, e.Body.Length) }, dump.Format);
        }
    }
}
