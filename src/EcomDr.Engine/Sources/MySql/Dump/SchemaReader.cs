using EcomDr.Engine.Sources.MySql.Shared;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Dump;

/// <summary>Reads tables, columns, keys and CREATE statements of schemas from a server.</summary>
public static class SchemaReader
{
    internal static readonly HashSet<string> SystemSchemas = new(StringComparer.OrdinalIgnoreCase)
    {
        "mysql", "information_schema", "performance_schema", "sys",
    };

    public static async Task<List<string>> SelectSchemasAsync(MySqlConnection c, IReadOnlyList<string>? wanted, CancellationToken ct)
    {
        var all = await Sql.ColumnAsync(c, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME", ct).ConfigureAwait(false);
        if (wanted is null || wanted.Count == 0)
        {
            return all.Where(s => !SystemSchemas.Contains(s)).ToList();
        }

        var missing = wanted.Where(w => !all.Contains(w, StringComparer.Ordinal)).ToList();
        if (missing.Count > 0)
        {
            throw new Errors.EcomDrException(Errors.ErrorIds.SchemaNotFound, Errors.FailureKind.ObjectNotFound,
                $"Schema(s) not found on the server: {string.Join(", ", missing)}.", missing[0]);
        }

        return wanted.ToList();
    }

    public static async Task<List<TableInfo>> TablesAsync(MySqlConnection c, string schema, CancellationToken ct)
    {
        var tables = new List<(string Name, string Engine, long Rows)>();
        await using (var cmd = new MySqlCommand(
            "SELECT TABLE_NAME, COALESCE(ENGINE, ''), COALESCE(TABLE_ROWS, 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = @s AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", c))
        {
            cmd.Parameters.AddWithValue("@s", schema);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                tables.Add((r.GetString(0), r.GetString(1), Convert.ToInt64(r.GetValue(2))));
            }
        }

        var columns = new Dictionary<string, List<ColumnInfo>>(StringComparer.Ordinal);
        await using (var cmd = new MySqlCommand(
            "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, COALESCE(GENERATION_EXPRESSION, ''), EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = @s ORDER BY TABLE_NAME, ORDINAL_POSITION", c))
        {
            cmd.Parameters.AddWithValue("@s", schema);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                var extra = r.GetString(5);
                var generated = r.GetString(4).Length > 0 || extra.Contains("GENERATED", StringComparison.OrdinalIgnoreCase)
                    || extra.Contains("VIRTUAL", StringComparison.OrdinalIgnoreCase) || extra.Contains("PERSISTENT", StringComparison.OrdinalIgnoreCase);
                var columnType = r.GetString(3);
                if (!columns.TryGetValue(r.GetString(0), out var list))
                {
                    columns[r.GetString(0)] = list = new List<ColumnInfo>();
                }

                list.Add(new ColumnInfo(r.GetString(1), r.GetString(2).ToLowerInvariant(), columnType, generated,
                    columnType.Contains("unsigned", StringComparison.OrdinalIgnoreCase)));
            }
        }

        var keys = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await using (var cmd = new MySqlCommand(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = @s AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_NAME, SEQ_IN_INDEX", c))
        {
            cmd.Parameters.AddWithValue("@s", schema);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                if (!keys.TryGetValue(r.GetString(0), out var list))
                {
                    keys[r.GetString(0)] = list = new List<string>();
                }

                list.Add(r.GetString(1));
            }
        }

        return tables.Select(t => new TableInfo(schema, t.Name, t.Engine, t.Rows, columns[t.Name],
            keys.TryGetValue(t.Name, out var pk) ? pk : new List<string>())).ToList();
    }

    public static async Task<SchemaDefinition> DefinitionAsync(MySqlConnection c, string schema, IReadOnlyList<TableInfo> tables, CancellationToken ct)
    {
        var definition = new SchemaDefinition { Schema = schema };
        await using (var cmd = new MySqlCommand("SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = @s", c))
        {
            cmd.Parameters.AddWithValue("@s", schema);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await r.ReadAsync(ct).ConfigureAwait(false);
            (definition.CharacterSet, definition.Collation) = (r.GetString(0), r.GetString(1));
        }

        var q = Identifiers.Quote(schema);
        foreach (var table in tables)
        {
            var ddl = await ShowCreateAsync(c, $"SHOW CREATE TABLE {q}.{Identifiers.Quote(table.Name)}", "Create Table", ct).ConfigureAwait(false);
            definition.Tables.Add(new SchemaObject { Type = "TABLE", Name = table.Name, Ddl = ddl.Ddl });
        }

        foreach (var view in await NamesAsync(c, "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = @s ORDER BY TABLE_NAME", schema, ct).ConfigureAwait(false))
        {
            definition.Objects.Add(await ObjectAsync(c, "VIEW", view, $"SHOW CREATE VIEW {q}.{Identifiers.Quote(view)}", "Create View", ct).ConfigureAwait(false));
        }

        foreach (var routine in await PairsAsync(c, "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = @s ORDER BY ROUTINE_TYPE, ROUTINE_NAME", schema, ct).ConfigureAwait(false))
        {
            var column = routine.Item1 == "FUNCTION" ? "Create Function" : "Create Procedure";
            definition.Objects.Add(await ObjectAsync(c, routine.Item1, routine.Item2, $"SHOW CREATE {routine.Item1} {q}.{Identifiers.Quote(routine.Item2)}", column, ct).ConfigureAwait(false));
        }

        foreach (var trigger in await NamesAsync(c, "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = @s ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER", schema, ct).ConfigureAwait(false))
        {
            definition.Objects.Add(await ObjectAsync(c, "TRIGGER", trigger, $"SHOW CREATE TRIGGER {q}.{Identifiers.Quote(trigger)}", "SQL Original Statement", ct).ConfigureAwait(false));
        }

        foreach (var ev in await NamesAsync(c, "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = @s ORDER BY EVENT_NAME", schema, ct).ConfigureAwait(false))
        {
            definition.Objects.Add(await ObjectAsync(c, "EVENT", ev, $"SHOW CREATE EVENT {q}.{Identifiers.Quote(ev)}", "Create Event", ct).ConfigureAwait(false));
        }

        return definition;
    }

    public static async Task<List<string>> UsersAsync(MySqlConnection c, CancellationToken ct)
    {
        var statements = new List<string>();
        var users = new List<(string User, string Host)>();
        await using (var cmd = new MySqlCommand("SELECT User, Host FROM mysql.user WHERE User NOT IN ('', 'root', 'mariadb.sys', 'mysql.sys', 'mysql.session', 'mysql.infoschema') ORDER BY User, Host", c))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                users.Add((r.GetString(0), r.GetString(1)));
            }
        }

        foreach (var (user, host) in users)
        {
            var account = $"'{user.Replace("'", "''")}'@'{host.Replace("'", "''")}'";
            var create = await Sql.ColumnAsync(c, $"SHOW CREATE USER {account}", ct).ConfigureAwait(false);
            statements.AddRange(create.Select(s => s.Replace("CREATE USER ", "CREATE USER IF NOT EXISTS ", StringComparison.Ordinal)));
            statements.AddRange(await Sql.ColumnAsync(c, $"SHOW GRANTS FOR {account}", ct).ConfigureAwait(false));
        }

        return statements;
    }

    private static async Task<SchemaObject> ObjectAsync(MySqlConnection c, string type, string name, string sql, string column, CancellationToken ct)
    {
        var (ddl, sqlMode, charset, collation) = await ShowCreateAsync(c, sql, column, ct).ConfigureAwait(false);
        return new SchemaObject { Type = type, Name = name, Ddl = DdlRewriter.StripDefiner(ddl), SqlMode = sqlMode, CharacterSetClient = charset, CollationConnection = collation };
    }

    private static async Task<(string Ddl, string? SqlMode, string? Charset, string? Collation)> ShowCreateAsync(MySqlConnection c, string sql, string column, CancellationToken ct)
    {
        await using var cmd = new MySqlCommand(sql, c);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await r.ReadAsync(ct).ConfigureAwait(false))
        {
            throw new Errors.EcomDrException(Errors.ErrorIds.SchemaChangedDuringBackup, Errors.FailureKind.ObjectNotFound, $"{sql} returned nothing (dropped during the backup?).", sql);
        }

        string? Field(string name)
        {
            for (var i = 0; i < r.FieldCount; i++)
            {
                if (string.Equals(r.GetName(i), name, StringComparison.OrdinalIgnoreCase))
                {
                    return r.IsDBNull(i) ? null : Convert.ToString(r.GetValue(i) is byte[] b ? System.Text.Encoding.UTF8.GetString(b) : r.GetValue(i));
                }
            }

            return null;
        }

        var ddl = Field(column) ?? throw new Errors.EcomDrException(Errors.ErrorIds.PermissionDenied, Errors.FailureKind.PermissionDenied,
            $"{sql} shows no definition: the backup user may not read it. Routines need global SELECT (MariaDB: SELECT on mysql.proc; MySQL 8: SHOW_ROUTINE).", sql);
        return (ddl, Field("sql_mode"), Field("character_set_client"), Field("collation_connection"));
    }

    private static async Task<List<string>> NamesAsync(MySqlConnection c, string sql, string schema, CancellationToken ct)
    {
        var list = new List<string>();
        await using var cmd = new MySqlCommand(sql, c);
        cmd.Parameters.AddWithValue("@s", schema);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            list.Add(r.GetString(0));
        }

        return list;
    }

    private static async Task<List<(string, string)>> PairsAsync(MySqlConnection c, string sql, string schema, CancellationToken ct)
    {
        var list = new List<(string, string)>();
        await using var cmd = new MySqlCommand(sql, c);
        cmd.Parameters.AddWithValue("@s", schema);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            list.Add((r.GetString(0), r.GetString(1)));
        }

        return list;
    }
}
