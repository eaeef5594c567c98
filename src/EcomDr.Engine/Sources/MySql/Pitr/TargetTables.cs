using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// A unique key of a table: its name and its columns (0-based, in key order), which of them compare as
/// text with a collation, and what starts the hash of its values (the table and the key, so a child row's
/// reference to it hashes alike).
/// </summary>
internal sealed record UniqueKey(string Name, int[] Columns, bool[] Collated, byte[] HashPrefix);

/// <summary>
/// A foreign key from a table to a parent's unique key: the child's columns in the order of the
/// parent key's columns. A child row holds a shared lock on that parent row, so it conflicts with a
/// transaction writing the parent row.
/// </summary>
internal sealed record ParentReference(string ParentTable, UniqueKey ParentKey, int[] ChildColumns);

/// <summary>
/// What parallel replay needs to know of a table on the target to compute a transaction's writeset:
/// whether it is transactional, its column count (to match the binlog's table map), its unique keys,
/// the parent keys its rows lock, and the tables it must be serialized with as a whole (no usable
/// unique key, or foreign keys with cascading actions, whose changes the binlog does not carry).
/// </summary>
internal sealed record TableShape(string Name, bool Transactional, int ColumnCount, IReadOnlyList<UniqueKey> Keys,
    IReadOnlyList<ParentReference> Parents, IReadOnlyList<string> WholeTable, IReadOnlyDictionary<string, int> ColumnIndex);

/// <summary>
/// Reads table shapes from the target's information_schema once per table, on a connection of its
/// own, and forgets them when a statement may have changed a table (DDL replayed in between).
/// </summary>
internal sealed class TargetTables(WireConnection connection)
{
    private readonly Dictionary<string, TableShape?> _cache = new(StringComparer.Ordinal);
    private readonly HashSet<string> _loading = new(StringComparer.Ordinal);

    public void Forget() => _cache.Clear();

    /// <summary>The table's shape, or null when it does not exist on the target (or is being read: a cycle of foreign keys).</summary>
    public async Task<TableShape?> GetAsync(string schema, string table, CancellationToken ct)
    {
        var name = $"{schema}.{table}";
        if (_cache.TryGetValue(name, out var known))
        {
            return known;
        }

        // Tables that reference each other: the inner one sees no shape, and the two are held whole.
        if (!_loading.Add(name))
        {
            return null;
        }

        try
        {
            var shape = await LoadAsync(schema, table, ct).ConfigureAwait(false);
            _cache[name] = shape;
            return shape;
        }
        finally
        {
            _loading.Remove(name);
        }
    }

    private async Task<TableShape?> LoadAsync(string schema, string table, CancellationToken ct)
    {
        var where = $"TABLE_SCHEMA = '{Sql.EscapeString(schema)}' AND TABLE_NAME = '{Sql.EscapeString(table)}'";
        var engine = await connection.ScalarAsync($"SELECT ENGINE FROM information_schema.TABLES WHERE {where}", ct).ConfigureAwait(false);
        if (engine is null)
        {
            return null;
        }

        var columns = await connection.QueryRowsAsync($"SELECT COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS WHERE {where} ORDER BY ORDINAL_POSITION", ct)
            .ConfigureAwait(false);
        var index = columns.Select((c, i) => (Name: c[0]!, i)).ToDictionary(c => c.Name, c => c.i, StringComparer.OrdinalIgnoreCase);
        // A binary collation compares bytes; any other may call different bytes equal (case, accents, trailing spaces).
        var collated = columns.Select(c => c[1] is { } collation && !collation.EndsWith("_bin", StringComparison.OrdinalIgnoreCase) && collation != "binary").ToArray();

        var keys = new List<UniqueKey>();
        var wholeTable = new List<string>();
        var parts = await connection.QueryRowsAsync(
            $"SELECT INDEX_NAME, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS WHERE {where} AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX", ct).ConfigureAwait(false);
        var prefixKey = false;
        foreach (var group in parts.GroupBy(p => p[0]!, StringComparer.Ordinal))
        {
            // A unique prefix makes values equal that differ after it: such a table is serialized whole.
            prefixKey |= group.Any(p => p[2] is not null);
            var cols = group.Select(p => index.TryGetValue(p[1] ?? "", out var i) ? i : -1).ToArray();
            if (cols.All(c => c >= 0))
            {
                keys.Add(new UniqueKey(group.Key, cols, cols.Select(c => collated[c]).ToArray(),
                    System.Text.Encoding.UTF8.GetBytes($"R\0{Name(schema, table)}\0{group.Key}\0")));
            }
        }

        if (keys.Count == 0 || prefixKey)
        {
            wholeTable.Add(Name(schema, table));
        }

        var parents = new List<ParentReference>();
        var constraints = await connection.QueryRowsAsync(
            "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, UNIQUE_CONSTRAINT_SCHEMA, REFERENCED_TABLE_NAME, UPDATE_RULE, DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS " +
            $"WHERE (CONSTRAINT_SCHEMA = '{Sql.EscapeString(schema)}' AND TABLE_NAME = '{Sql.EscapeString(table)}') OR (UNIQUE_CONSTRAINT_SCHEMA = '{Sql.EscapeString(schema)}' AND REFERENCED_TABLE_NAME = '{Sql.EscapeString(table)}')",
            ct).ConfigureAwait(false);
        foreach (var c in constraints)
        {
            var child = Name(c[0]!, c[1]!);
            var parent = Name(c[3]!, c[4]!);
            var self = Name(schema, table);
            if (c[5] != "RESTRICT" && c[5] != "NO ACTION" || c[6] != "RESTRICT" && c[6] != "NO ACTION")
            {
                // Cascading actions change rows the binlog does not show: the two tables are serialized whole.
                wholeTable.Add(child);
                wholeTable.Add(parent);
                continue;
            }

            if (child != self)
            {
                continue; // a parent row's own key is in its writeset already
            }

            var pairs = await connection.QueryRowsAsync(
                $"SELECT COLUMN_NAME, REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE {where} AND CONSTRAINT_SCHEMA = '{Sql.EscapeString(c[0]!)}' " +
                $"AND CONSTRAINT_NAME = '{Sql.EscapeString(c[2]!)}' AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY ORDINAL_POSITION", ct).ConfigureAwait(false);
            var parentShape = parent == self ? null : await GetAsync(c[3]!, c[4]!, ct).ConfigureAwait(false);
            var reference = parent == self ? Reference(pairs, index, keys, index)
                : parentShape is null ? null : Reference(pairs, index, parentShape.Keys, parentShape.ColumnIndex);
            if (reference is null)
            {
                wholeTable.Add(parent); // a reference to a non-unique index: the parent is locked by ranges
                wholeTable.Add(child);
            }
            else
            {
                parents.Add(new ParentReference(parent, reference.Value.Key, reference.Value.Child));
            }
        }

        return new TableShape(Name(schema, table), engine.Equals("InnoDB", StringComparison.OrdinalIgnoreCase), columns.Count, keys, parents,
            wholeTable.Distinct(StringComparer.Ordinal).ToList(), index);
    }

    /// <summary>The parent's unique key whose columns are exactly the referenced ones, and the child's columns in that key's order.</summary>
    private static (UniqueKey Key, int[] Child)? Reference(List<string?[]> pairs, Dictionary<string, int> childIndex, IReadOnlyList<UniqueKey> parentKeys,
        IReadOnlyDictionary<string, int> parentIndex)
    {
        var byParentColumn = new Dictionary<int, int>();
        foreach (var pair in pairs)
        {
            if (!childIndex.TryGetValue(pair[0] ?? "", out var child) || !parentIndex.TryGetValue(pair[1] ?? "", out var parent))
            {
                return null;
            }

            byParentColumn[parent] = child;
        }

        foreach (var key in parentKeys)
        {
            if (key.Columns.Length == byParentColumn.Count && key.Columns.All(byParentColumn.ContainsKey))
            {
                return (key, key.Columns.Select(c => byParentColumn[c]).ToArray());
            }
        }

        return null;
    }

    public static string Name(string schema, string table) => $"{schema}.{table}".ToLowerInvariant();
}
