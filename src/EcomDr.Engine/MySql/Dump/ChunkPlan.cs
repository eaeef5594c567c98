using MySqlConnector;

namespace EcomDr.Engine.MySql.Dump;

/// <summary>One unit of dump work: a table, or a range of its integer primary key.</summary>
public sealed record Chunk(TableInfo Table, int Index, long? From, long? To, bool Last)
{
    public string ArtifactName => $"data/{Table.Schema}/{Table.Name}.{Index:D5}.sql";

    public string Where => From is null ? "" : $" WHERE {TableInfo.Quote(Table.PrimaryKey[0])} >= {From} AND {TableInfo.Quote(Table.PrimaryKey[0])} {(Last ? "<=" : "<")} {To}";

    public string OrderBy => Table.PrimaryKey.Count == 0 ? "" : " ORDER BY " + string.Join(", ", Table.PrimaryKey.Select(TableInfo.Quote));
}

/// <summary>Splits big tables with a single integer key into key ranges of about ChunkRows rows.</summary>
internal static class ChunkPlan
{
    public static async Task<List<Chunk>> PlanAsync(MySqlConnection snapshot, TableInfo table, long chunkRows, CancellationToken ct)
    {
        if (!table.HasIntegerKey || table.EstimatedRows <= chunkRows)
        {
            return new List<Chunk> { new(table, 1, null, null, true) };
        }

        var key = TableInfo.Quote(table.PrimaryKey[0]);
        await using var cmd = new MySqlCommand($"SELECT MIN({key}), MAX({key}) FROM {table.QualifiedName}", snapshot);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await r.ReadAsync(ct).ConfigureAwait(false);
        if (r.IsDBNull(0))
        {
            return new List<Chunk> { new(table, 1, null, null, true) };
        }

        // Unsigned BIGINT keys above long.MaxValue are rare; such tables are dumped in one piece.
        if (r.GetValue(1) is ulong big && big > long.MaxValue)
        {
            return new List<Chunk> { new(table, 1, null, null, true) };
        }

        var min = Convert.ToInt64(r.GetValue(0));
        var max = Convert.ToInt64(r.GetValue(1));
        var count = (int)Math.Clamp((table.EstimatedRows + chunkRows - 1) / chunkRows, 1, 10_000);
        var step = Math.Max(1, (max - min + 1) / count + 1);
        var chunks = new List<Chunk>();
        for (long from = min, i = 1; from <= max; from += step, i++)
        {
            var to = Math.Min(max, from + step);
            chunks.Add(new Chunk(table, (int)i, from, to, to == max));
            if (to == max)
            {
                break;
            }
        }

        return chunks;
    }
}
