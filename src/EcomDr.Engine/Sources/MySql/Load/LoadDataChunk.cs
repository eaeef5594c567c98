using System.Globalization;
using System.Text;
using EcomDr.Engine.Sources.MySql.Shared;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Load;

/// <summary>
/// A dump chunk's INSERT lines as the data of one LOAD DATA LOCAL: the server reads the tuples
/// "(v1,'v2',NULL),(...)" as they are, fields separated by ',', strings enclosed in quotes with
/// the same backslash escapes the dump writes, an unquoted NULL as NULL, each row started by '('
/// and ended by ')' (so the ',' between rows, and the end of one line and the start of the next,
/// fall before a row's start and are skipped). Parsing rows this way costs the server about half
/// what parsing INSERT statements does, and the client only strips each line's prefix.
/// Hex (X'..') and bit (b'..') literals go through user variables (<see cref="Statement"/>).
/// </summary>
internal static class LoadDataChunk
{
    private static readonly byte[] InsertInto = "INSERT INTO `"u8.ToArray();
    private static readonly byte[] Values = " VALUES ("u8.ToArray();

    private static readonly HashSet<string> HexTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
        "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection",
    };

    /// <summary>
    /// The column types (name to DATA_TYPE) of the target tables, whose chunks load as LOAD DATA LOCAL;
    /// none when the server does not allow it (local_infile off, the default of MySQL 8). RowFormat: the
    /// loaders must log in ROW format. A LOAD DATA logged as a statement (STATEMENT format; MIXED on MySQL)
    /// carries its data in separate events, which point-in-time replay refuses even for a schema it
    /// skips: a restore beside the live schema on a shipped primary would then block every later replay
    /// across it. Where the session may not change binlog_format, the chunks run as INSERT statements.
    /// </summary>
    public static async Task<(Dictionary<(string Schema, string Table), Dictionary<string, string>> Types, bool RowFormat)> TargetTablesAsync(
        MySqlEndpoint target, RestorePlan plan, RestoreOptions options, CancellationToken ct)
    {
        var types = new Dictionary<(string, string), Dictionary<string, string>>();
        await using var c = await MySqlConnections.OpenAsync(target, MySqlConnections.AsStored, ct).ConfigureAwait(false);
        bool rowFormat;
        await using (var facts = new MySqlCommand("SELECT @@GLOBAL.local_infile, @@GLOBAL.log_bin, @@SESSION.binlog_format", c))
        await using (var reader = await facts.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            await reader.ReadAsync(ct).ConfigureAwait(false);
            if (Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture) == 0)
            {
                return (types, false);
            }

            rowFormat = !options.NoBinlog && Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture) != 0
                && !string.Equals(reader.GetString(2), "ROW", StringComparison.OrdinalIgnoreCase);
        }

        if (rowFormat)
        {
            try
            {
                await Sql.ExecAsync(c, "SET SESSION binlog_format = 'ROW'", ct).ConfigureAwait(false);
            }
            catch (MySqlException)
            {
                return (types, false); // no BINLOG ADMIN (MariaDB) or SESSION_VARIABLES_ADMIN (MySQL)
            }
        }

        foreach (var schema in plan.SchemaMap.Values.Distinct())
        {
            await using var cmd = new MySqlCommand("SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = @s", c);
            cmd.Parameters.AddWithValue("@s", schema);
            await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var key = (schema, reader.GetString(0));
                if (!types.TryGetValue(key, out var columns))
                {
                    types[key] = columns = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                }

                columns[reader.GetString(1)] = reader.GetString(2);
            }
        }

        return (types, rowFormat);
    }

    /// <summary>
    /// The length of a line's "INSERT INTO `t` (`a`,`b`) VALUES " prefix (the column list optional);
    /// 0 when the line is not a dump INSERT of that shape. Identifiers may hold any character, with
    /// '`' doubled.
    /// </summary>
    public static int PrefixLength(ReadOnlySpan<byte> line)
    {
        if (!line.StartsWith(InsertInto))
        {
            return 0;
        }

        var at = SkipIdentifier(line, InsertInto.Length - 1);
        if (at < 0)
        {
            return 0;
        }

        if (line[at..].StartsWith(" ("u8))
        {
            at += 2;
            while (true)
            {
                at = SkipIdentifier(line, at);
                if (at < 0 || at >= line.Length)
                {
                    return 0;
                }

                if (line[at] == (byte)')')
                {
                    at++;
                    break;
                }

                if (line[at] != (byte)',')
                {
                    return 0;
                }

                at++;
            }
        }

        return line[at..].StartsWith(Values) ? at + Values.Length - 1 : 0;
    }

    /// <summary>
    /// The LOAD DATA statement for a prefix found by <see cref="PrefixLength"/>, given the target
    /// table's column types (name to DATA_TYPE). A hex literal (binary, blob, spatial) or bit literal
    /// arrives as the unquoted text X'..' or b'..' in a user variable and is turned back into its value
    /// by the SET clause, as the INSERT would have. Null when the prefix names a column the table does
    /// not have, or has no column list while the table has such columns: the lines then run as INSERT
    /// statements.
    /// </summary>
    public static byte[]? Statement(ReadOnlySpan<byte> prefix, IReadOnlyDictionary<string, string> columnTypes)
    {
        var tableEnd = SkipIdentifier(prefix, InsertInto.Length - 1);
        var sql = new StringBuilder("LOAD DATA LOCAL INFILE 'ecomdr-chunk' INTO TABLE ")
            .Append(Encoding.UTF8.GetString(prefix[(InsertInto.Length - 1)..tableEnd]))
            .Append(" CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\\'' ESCAPED BY '\\\\' LINES STARTING BY '(' TERMINATED BY ')'");
        var list = prefix[tableEnd..^(Values.Length - 1)];
        if (list.Length == 0)
        {
            return columnTypes.Values.Any(t => HexTypes.Contains(t) || t.Equals("bit", StringComparison.OrdinalIgnoreCase)) ? null : Encoding.UTF8.GetBytes(sql.ToString());
        }

        var fields = new List<string>();
        var sets = new List<string>();
        for (var at = 2; at < list.Length;)
        {
            var end = SkipIdentifier(list, at);
            var quoted = Encoding.UTF8.GetString(list[at..end]);
            var name = quoted[1..^1].Replace("``", "`", StringComparison.Ordinal);
            if (!columnTypes.TryGetValue(name, out var type))
            {
                return null;
            }

            var variable = $"@ecomdr_v{fields.Count}";
            if (HexTypes.Contains(type))
            {
                fields.Add(variable);
                // X'..' loses its X' and ', '' stays empty, NULL stays NULL; UNHEX keeps the result binary.
                sets.Add($"{quoted} = UNHEX(SUBSTRING({variable}, 3, CHAR_LENGTH({variable}) - 3))");
            }
            else if (type.Equals("bit", StringComparison.OrdinalIgnoreCase))
            {
                fields.Add(variable);
                sets.Add($"{quoted} = CAST(CONV(SUBSTRING({variable}, 3, CHAR_LENGTH({variable}) - 3), 2, 10) AS UNSIGNED)");
            }
            else
            {
                fields.Add(quoted);
            }

            at = end + 1; // past ',' or the closing ')'
        }

        sql.Append(" (").Append(string.Join(",", fields)).Append(')');
        if (sets.Count > 0)
        {
            sql.Append(" SET ").Append(string.Join(", ", sets));
        }

        return Encoding.UTF8.GetBytes(sql.ToString());
    }

    /// <summary>The position after a `quoted` identifier starting at <paramref name="at"/>; -1 if there is none.</summary>
    private static int SkipIdentifier(ReadOnlySpan<byte> line, int at)
    {
        if (at >= line.Length || line[at] != (byte)'`')
        {
            return -1;
        }

        for (var i = at + 1; i < line.Length; i++)
        {
            if (line[i] != (byte)'`')
            {
                continue;
            }

            if (i + 1 < line.Length && line[i + 1] == (byte)'`')
            {
                i++;
                continue;
            }

            return i + 1;
        }

        return -1;
    }
}
