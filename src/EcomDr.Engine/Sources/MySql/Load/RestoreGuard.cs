using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Shared;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Load;

/// <summary>
/// What a restore's target schemas held before it started, so a restore that fails (or is cancelled)
/// can remove what it created and only that: a schema it created is dropped; in a schema that
/// existed, the tables, views, routines, events and sequences it added are dropped. What -Force
/// replaced cannot be put back and is left as it is.
/// </summary>
internal sealed class RestoreGuard
{
    private readonly Dictionary<string, HashSet<string>?> _before; // schema -> its objects before (null: it did not exist)

    private RestoreGuard(Dictionary<string, HashSet<string>?> before) => _before = before;

    public static async Task<RestoreGuard> CaptureAsync(MySqlEndpoint target, IEnumerable<string> schemas, CancellationToken ct)
    {
        var before = new Dictionary<string, HashSet<string>?>(StringComparer.Ordinal);
        await using var c = await MySqlConnections.OpenAsync(target, ct).ConfigureAwait(false);
        foreach (var schema in schemas.Distinct(StringComparer.Ordinal))
        {
            await using var exists = new MySqlCommand("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = @s", c);
            exists.Parameters.AddWithValue("@s", schema);
            before[schema] = Convert.ToInt64(await exists.ExecuteScalarAsync(ct).ConfigureAwait(false)) == 0 ? null : await ObjectsAsync(c, schema, ct).ConfigureAwait(false);
        }

        return new RestoreGuard(before);
    }

    /// <summary>Removes what the restore created; says what it removed (or why it could not). Never throws.</summary>
    public async Task<string> UndoAsync(MySqlEndpoint target)
    {
        var done = new List<string>();
        try
        {
            await using var c = await MySqlConnections.OpenAsync(target, CancellationToken.None).ConfigureAwait(false);
            // Bounded waits: a lock held elsewhere must not hang the error path.
            await Sql.ExecAsync(c, "SET SESSION foreign_key_checks = 0, lock_wait_timeout = 30", CancellationToken.None).ConfigureAwait(false);
            foreach (var (schema, before) in _before)
            {
                if (before is null)
                {
                    await Sql.ExecAsync(c, $"DROP DATABASE IF EXISTS {Identifiers.Quote(schema)}", CancellationToken.None).ConfigureAwait(false);
                    done.Add($"dropped the schema `{schema}` it had created");
                    continue;
                }

                var added = (await ObjectsAsync(c, schema, CancellationToken.None).ConfigureAwait(false)).Except(before).ToList();
                foreach (var entry in added)
                {
                    var (type, name) = (entry[..entry.IndexOf(' ', StringComparison.Ordinal)], entry[(entry.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
                    await Sql.ExecAsync(c, $"DROP {type} IF EXISTS {Identifiers.Quote(schema)}.{Identifiers.Quote(name)}", CancellationToken.None).ConfigureAwait(false);
                }

                done.Add(added.Count == 0 ? $"`{schema}` holds nothing it added" : $"dropped the {added.Count} object(s) it had added to `{schema}`");
            }

            return string.Join("; ", done);
        }
        catch (Exception ex) when (ex is MySqlException or EcomDrException or IOException or InvalidOperationException)
        {
            return $"{string.Join("; ", done)}{(done.Count > 0 ? "; " : "")}removing what it created failed: {ex.Message}";
        }
    }

    /// <summary>"TABLE name", "VIEW name", "PROCEDURE name", "FUNCTION name", "EVENT name", "SEQUENCE name".</summary>
    private static async Task<HashSet<string>> ObjectsAsync(MySqlConnection c, string schema, CancellationToken ct)
    {
        const string query = """
            SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'VIEW' WHEN TABLE_TYPE = 'SEQUENCE' THEN 'SEQUENCE' ELSE 'TABLE' END, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = @s
            UNION ALL SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = @s
            UNION ALL SELECT 'EVENT', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = @s
            """;
        var names = new HashSet<string>(StringComparer.Ordinal);
        await using var cmd = new MySqlCommand(query, c);
        cmd.Parameters.AddWithValue("@s", schema);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            names.Add($"{r.GetString(0)} {r.GetString(1)}");
        }

        return names;
    }
}
