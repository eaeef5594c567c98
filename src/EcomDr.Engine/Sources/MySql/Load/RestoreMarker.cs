using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Shared;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Load;

/// <summary>What the target server records about the last restore into a schema.</summary>
public sealed record RestoreState(string Schema, string State, string BackupId, string Operation, DateTime StartedUtc, DateTime? FinishedUtc, string Reached, string Message)
{
    public bool IsComplete => State == RestoreMarker.Complete;
}

/// <summary>
/// Marks each schema a restore writes in a small table on the target (`ecomdr`.`restore_state`):
/// "running" before the first change, "complete" at the end; on a failure or cancellation "failed"
/// with the reason once what it created is removed, or "incomplete" when it was kept (-KeepFailed). A killed job stays "running", so a partial schema never passes for a
/// finished one: Test-MySqlRestore fails it and Switch-MySqlSchema refuses to swap it in. The rows
/// are written outside the binlog where the user may, so they do not change the GTID state.
/// </summary>
public static class RestoreMarker
{
    public const string Running = "running";
    public const string Complete = "complete";
    public const string Incomplete = "incomplete";

    /// <summary>The restore failed and what it had created was removed (the message says what).</summary>
    public const string Failed = "failed";
    public const string Table = "`ecomdr`.`restore_state`";

    public static async Task BeginAsync(MySqlEndpoint target, IEnumerable<string> schemas, string backupId, string operation, CancellationToken ct)
    {
        await using var c = await OpenAsync(target, ct).ConfigureAwait(false);
        await Sql.ExecAsync(c, "CREATE DATABASE IF NOT EXISTS `ecomdr`", ct).ConfigureAwait(false);
        await Sql.ExecAsync(c, $"""
            CREATE TABLE IF NOT EXISTS {Table} (
              schema_name VARCHAR(64) NOT NULL PRIMARY KEY,
              state VARCHAR(16) NOT NULL,
              backup_id VARCHAR(64) NOT NULL,
              operation VARCHAR(32) NOT NULL,
              started_at DATETIME(6) NOT NULL,
              finished_at DATETIME(6) NULL,
              reached VARCHAR(255) NOT NULL DEFAULT '',
              message TEXT NULL
            ) ENGINE=InnoDB
            """, ct).ConfigureAwait(false);
        foreach (var schema in schemas)
        {
            await using var cmd = new MySqlCommand(
                $"REPLACE INTO {Table} (schema_name, state, backup_id, operation, started_at) VALUES (@s, '{Running}', @b, @o, UTC_TIMESTAMP(6))", c);
            cmd.Parameters.AddWithValue("@s", schema);
            cmd.Parameters.AddWithValue("@b", backupId);
            cmd.Parameters.AddWithValue("@o", operation);
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Records the outcome. Never throws over the error it may be reporting; a failure to record is returned.</summary>
    public static async Task<Exception?> FinishAsync(MySqlEndpoint target, IEnumerable<string> schemas, string state, string reached, string? message)
    {
        try
        {
            // Not cancellable: it records a cancellation too.
            await using var c = await OpenAsync(target, CancellationToken.None).ConfigureAwait(false);
            foreach (var schema in schemas)
            {
                await using var cmd = new MySqlCommand($"UPDATE {Table} SET state = @st, finished_at = UTC_TIMESTAMP(6), reached = @r, message = @m WHERE schema_name = @s", c);
                cmd.Parameters.AddWithValue("@st", state);
                cmd.Parameters.AddWithValue("@r", reached.Length > 255 ? reached[..255] : reached);
                cmd.Parameters.AddWithValue("@m", message);
                cmd.Parameters.AddWithValue("@s", schema);
                await cmd.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            }

            return null;
        }
        catch (Exception ex) when (ex is MySqlException or IOException or InvalidOperationException or EcomDrException)
        {
            return ex;
        }
    }

    /// <summary>The recorded state of a schema, or null when no EcomDr restore wrote it.</summary>
    public static async Task<RestoreState?> ReadAsync(MySqlConnection c, string schema, CancellationToken ct)
    {
        await using (var exists = new MySqlCommand("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ecomdr' AND TABLE_NAME = 'restore_state'", c))
        {
            if (Convert.ToInt64(await exists.ExecuteScalarAsync(ct).ConfigureAwait(false)) == 0)
            {
                return null;
            }
        }

        await using var cmd = new MySqlCommand($"SELECT state, backup_id, operation, started_at, finished_at, reached, message FROM {Table} WHERE schema_name = @s", c);
        cmd.Parameters.AddWithValue("@s", schema);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await r.ReadAsync(ct).ConfigureAwait(false))
        {
            return null;
        }

        return new RestoreState(schema, r.GetString(0), r.GetString(1), r.GetString(2), r.GetDateTime(3), r.IsDBNull(4) ? null : r.GetDateTime(4),
            r.GetString(5), r.IsDBNull(6) ? "" : r.GetString(6));
    }

    /// <summary>Moves a schema's record with it (Switch-MySqlSchema): the state follows the data.</summary>
    public static async Task RenameAsync(MySqlEndpoint target, string from, string to, CancellationToken ct)
    {
        await using var c = await OpenAsync(target, ct).ConfigureAwait(false);
        await using var cmd = new MySqlCommand($"UPDATE {Table} SET schema_name = @to WHERE schema_name = @from", c);
        cmd.Parameters.AddWithValue("@from", from);
        cmd.Parameters.AddWithValue("@to", to);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static async Task<MySqlConnection> OpenAsync(MySqlEndpoint target, CancellationToken ct)
    {
        var c = await MySqlConnections.OpenAsync(target, ct).ConfigureAwait(false);
        try
        {
            await Sql.ExecAsync(c, "SET SESSION sql_log_bin = 0", ct).ConfigureAwait(false);
        }
        catch (MySqlException)
        {
            // Without the privilege the rows are binlogged: harmless, only the target's own GTID moves.
        }

        return c;
    }
}
