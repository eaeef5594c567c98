using EcomDr.Engine.Sources.MySql.Shared;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>Where a server's binlog ends now.</summary>
public static class BinlogStatus
{
    public static async Task<BinlogCoordinate?> CurrentAsync(MySqlEndpoint endpoint, CancellationToken ct)
    {
        await using var c = await MySqlConnections.OpenAsync(endpoint, ct).ConfigureAwait(false);
        var facts = await ServerFacts.ReadAsync(c, ct).ConfigureAwait(false);
        // MySQL 8.4 removed SHOW MASTER STATUS; MariaDB does not know SHOW BINARY LOG STATUS.
        await using var cmd = new MySqlCommand(facts.Flavor == ServerFlavor.MariaDb ? "SHOW MASTER STATUS" : "SHOW BINARY LOG STATUS", c);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await r.ReadAsync(ct).ConfigureAwait(false) ? new BinlogCoordinate(r.GetString(0), Convert.ToInt64(r.GetValue(1))) : null;
    }
}
