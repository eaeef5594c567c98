using System.Globalization;
using EcomDr.Engine.Sources.MySql.Shared;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// Whether a target already holds GTIDs of the source past the backup: it is the source itself (a
/// schema restored on the live server), or a server an earlier recovery wrote to. Replaying the
/// original GTIDs there would collide (refused under gtid_strict_mode, logged twice without it; MySQL
/// would silently skip the transactions), so replay gives them the target's own GTIDs instead.
/// </summary>
internal static class TargetGtids
{
    /// <summary>The first GTID of the target's state that lies past the backup's, or null.</summary>
    public static async Task<string?> PastBackupAsync(MySqlEndpoint target, string backupGtidSet, CancellationToken ct)
    {
        await using var c = await MySqlConnections.OpenAsync(target, ct).ConfigureAwait(false);
        var mariaDb = c.ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);
        await using var cmd = new MySqlCommand(mariaDb ? "SELECT @@GLOBAL.gtid_binlog_state" : "SELECT @@GLOBAL.gtid_executed", c);
        var state = Convert.ToString(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture) ?? "";
        var backup = backupGtidSet.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var part in state.Replace("\n", "", StringComparison.Ordinal).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (GtidSets.MariaDb(part) is { } held)
            {
                // The backup's domain, a later sequence: the target has gone past the backup in the source's history.
                var mine = backup.Select(GtidSets.MariaDb).FirstOrDefault(b => b is { } x && x.Domain == held.Domain);
                if (mine is { } b && held.Sequence > b.Sequence)
                {
                    return part;
                }

                continue;
            }

            // MySQL: uuid:1-5:7-9 — any number of a source UUID that the backup's set does not hold.
            var fields = part.Split(':');
            if (!backup.Any(b => b.StartsWith(fields[0] + ":", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            foreach (var interval in fields.Skip(1).Where(f => f.Length > 0 && char.IsAsciiDigit(f[0])))
            {
                var end = interval[(interval.IndexOf('-', StringComparison.Ordinal) + 1)..];
                if (GtidSets.Contains(backupGtidSet, $"{fields[0]}:{end}") == false)
                {
                    return $"{fields[0]}:{end}";
                }
            }
        }

        return null;
    }
}
