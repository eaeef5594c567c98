using MySqlConnector;

namespace EcomDr.TestKit.Differential;

/// <summary>
/// Everything a schema holds, comparable across servers and schema names: each base table's and
/// sequence's content digest (row count and the sum of per-row SHA-256 prefixes over QUOTE() of every
/// column, as the shop inspector computes it), its columns, indexes and table options (engine, row
/// format, collation, comment), and the definitions of its views, triggers, routines
/// and events with the schema's own name taken out. Two schemas are equal when every entry is.
/// </summary>
public sealed record SchemaState(IReadOnlyDictionary<string, string> Entries)
{
    public static async Task<SchemaState> ReadAsync(string connectionString, string schema)
    {
        await using var c = new MySqlConnection(connectionString);
        await c.OpenAsync().ConfigureAwait(false);
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        // The schema's own name, quoted or not, in a definition (a restored copy has another name); a name
        // qualified with it means what the unqualified name means inside it.
        string Anonymous(string text) => System.Text.RegularExpressions.Regex.Replace(
            text.Replace($"`{schema.Replace("`", "``", StringComparison.Ordinal)}`", "`<schema>`", StringComparison.Ordinal),
            $@"(?<![\w$`]){System.Text.RegularExpressions.Regex.Escape(schema)}(?=\s*\.)", "`<schema>`").Replace("`<schema>`.", "", StringComparison.Ordinal);

        var columns = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var row in RowsAsync(c, """
            SELECT t.TABLE_NAME, t.TABLE_TYPE, c.COLUMN_NAME FROM information_schema.TABLES t
              JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME
             WHERE t.TABLE_SCHEMA = @s AND t.TABLE_TYPE IN ('BASE TABLE', 'SEQUENCE') ORDER BY t.TABLE_NAME, c.ORDINAL_POSITION
            """, schema).ConfigureAwait(false))
        {
            types[row[0]] = row[1];
            if (!columns.TryGetValue(row[0], out var list))
            {
                columns[row[0]] = list = new List<string>();
            }

            list.Add($"QUOTE({Quote(row[2])})");
        }

        foreach (var (table, list) in columns)
        {
            var digest = $"SHA2(CONCAT_WS(',', {string.Join(", ", list)}), 256)";
            await using var command = new MySqlCommand(
                $"SELECT CONCAT(COUNT(*), ':', COALESCE(SUM(CAST(CONV(LEFT({digest}, 15), 16, 10) AS UNSIGNED)), 0)) FROM {Quote(schema)}.{Quote(table)}", c);
            entries[$"{(types[table] == "SEQUENCE" ? "sequence" : "table")} {table}"] = Convert.ToString(await command.ExecuteScalarAsync().ConfigureAwait(false))!;
        }

        await foreach (var row in RowsAsync(c, "SELECT COLUMN_NAME, TABLE_NAME, COLUMN_TYPE, IS_NULLABLE, COALESCE(COLUMN_DEFAULT, 'NULL'), ORDINAL_POSITION, COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = @s", schema).ConfigureAwait(false))
        {
            entries[$"column {row[1]}.{row[0]}"] = $"{row[5]} {row[2]} {row[3]} {row[4]}{(row[6].Length > 0 ? $" '{row[6]}'" : "")}";
        }

        await foreach (var row in RowsAsync(c, "SELECT TABLE_NAME, COALESCE(ENGINE, ''), COALESCE(CREATE_OPTIONS, ''), COALESCE(TABLE_COLLATION, ''), TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = @s AND TABLE_TYPE = 'BASE TABLE'", schema).ConfigureAwait(false))
        {
            entries[$"options {row[0]}"] = $"{row[1]} {row[2]} {row[3]} '{row[4]}'";
        }

        await foreach (var row in RowsAsync(c, "SELECT TABLE_NAME, INDEX_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX), MAX(NON_UNIQUE) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = @s GROUP BY TABLE_NAME, INDEX_NAME", schema).ConfigureAwait(false))
        {
            entries[$"index {row[0]}.{row[1]}"] = $"{row[2]} {row[3]}";
        }

        await foreach (var row in RowsAsync(c, "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = @s", schema).ConfigureAwait(false))
        {
            entries[$"view {row[0]}"] = Anonymous(row[1]);
        }

        await foreach (var row in RowsAsync(c, "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = @s", schema).ConfigureAwait(false))
        {
            entries[$"trigger {row[0]}"] = Anonymous($"{row[2]} {row[3]} ON {row[1]}: {row[4]}");
        }

        await foreach (var row in RowsAsync(c, "SELECT ROUTINE_TYPE, ROUTINE_NAME, ROUTINE_DEFINITION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = @s", schema).ConfigureAwait(false))
        {
            entries[$"{row[0].ToLowerInvariant()} {row[1]}"] = Anonymous(row[2]);
        }

        await foreach (var row in RowsAsync(c, "SELECT EVENT_NAME, EVENT_DEFINITION, COALESCE(INTERVAL_VALUE, ''), COALESCE(INTERVAL_FIELD, '') FROM information_schema.EVENTS WHERE EVENT_SCHEMA = @s", schema).ConfigureAwait(false))
        {
            entries[$"event {row[0]}"] = Anonymous($"{row[2]} {row[3]}: {row[1]}");
        }

        return new SchemaState(entries);
    }

    /// <summary>Every user schema of a server but the ones named, each read whole: what must not change when a restore touches only its target.</summary>
    public static async Task<IReadOnlyDictionary<string, SchemaState>> OthersAsync(string connectionString, params string[] except)
    {
        var result = new SortedDictionary<string, SchemaState>(StringComparer.Ordinal);
        foreach (var schema in (await SchemasAsync(connectionString).ConfigureAwait(false)).Where(s => !except.Contains(s, StringComparer.Ordinal)))
        {
            result[schema] = await ReadAsync(connectionString, schema).ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>The user schemas of a server, sorted.</summary>
    public static async Task<IReadOnlyList<string>> SchemasAsync(string connectionString)
    {
        var schemas = new List<string>();
        await using var c = new MySqlConnection(connectionString);
        await c.OpenAsync().ConfigureAwait(false);
        await foreach (var row in RowsAsync(c, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') AND @s = @s", "").ConfigureAwait(false))
        {
            schemas.Add(row[0]);
        }

        return schemas.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The entries that differ, described ("table t: 3:123 vs 4:456"); empty when equal.</summary>
    public IReadOnlyList<string> Differences(SchemaState other) =>
        Entries.Keys.Union(other.Entries.Keys).Order(StringComparer.Ordinal)
            .Where(k => Entries.GetValueOrDefault(k) != other.Entries.GetValueOrDefault(k))
            .Select(k => $"{k}: {Entries.GetValueOrDefault(k) ?? "(missing)"} vs {other.Entries.GetValueOrDefault(k) ?? "(missing)"}").ToList();

    public override string ToString() => string.Join("\n", Entries.Select(e => $"{e.Key} = {e.Value}"));

    private static string Quote(string name) => "`" + name.Replace("`", "``", StringComparison.Ordinal) + "`";

    private static async IAsyncEnumerable<string[]> RowsAsync(MySqlConnection c, string sql, string schema)
    {
        await using var command = new MySqlCommand(sql, c);
        command.Parameters.AddWithValue("@s", schema);
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            var row = new string[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? "" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)!;
            }

            yield return row;
        }
    }
}
