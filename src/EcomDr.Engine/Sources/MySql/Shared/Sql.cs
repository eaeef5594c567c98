using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Shared;

/// <summary>The few ways the engine runs a statement, in one place.</summary>
internal static class Sql
{
    public static async Task ExecAsync(MySqlConnection connection, string sql, CancellationToken ct)
    {
        await using var cmd = new MySqlCommand(sql, connection) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public static async Task<string> ScalarAsync(MySqlConnection connection, string sql, CancellationToken ct)
    {
        await using var cmd = new MySqlCommand(sql, connection);
        return Convert.ToString(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false)) ?? string.Empty;
    }

    /// <summary>The first column of every row, as text.</summary>
    public static async Task<List<string>> ColumnAsync(MySqlConnection connection, string sql, CancellationToken ct)
    {
        var list = new List<string>();
        await using var cmd = new MySqlCommand(sql, connection);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            list.Add(reader.GetString(0));
        }

        return list;
    }

    /// <summary>The body of a single-quoted string literal (for the wire client, which has no parameters).</summary>
    public static string EscapeString(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal).Replace("\0", "\\0", StringComparison.Ordinal);
}
