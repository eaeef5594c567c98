using EcomDr.Engine.Sources.MySql.Shared;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Dump;

/// <summary>
/// One unit of dump work: a table, or a range [From, To) of its integer primary key. The first range
/// has no lower bound and the last no upper bound, so the ranges cover every key whatever the
/// snapshot holds, even though they are planned outside it.
/// </summary>
public sealed record Chunk(TableInfo Table, int Index, long? From, long? To)
{
    public string ArtifactName => $"data/{Pipeline.Repository.ArtifactNames.Encode(Table.Schema)}/{Pipeline.Repository.ArtifactNames.Encode(Table.Name)}.{Index:D5}.sql";

    public string Where
    {
        get
        {
            if (From is null && To is null)
            {
                return "";
            }

            var key = Identifiers.Quote(Table.PrimaryKey[0]);
            return (From, To) switch
            {
                (null, _) => $" WHERE {key} < {To}",
                (_, null) => $" WHERE {key} >= {From}",
                _ => $" WHERE {key} >= {From} AND {key} < {To}",
            };
        }
    }

    public string OrderBy => Table.PrimaryKey.Count == 0 ? "" : " ORDER BY " + string.Join(", ", Table.PrimaryKey.Select(Identifiers.Quote));
}

/// <summary>
/// Splits big tables with a single integer key into key ranges of about ChunkRows rows. A table big
/// enough to matter is split into at least four ranges per worker (of at least <see cref="MinSplitRows"/>
/// rows each): one large table alone must keep every worker busy to the end, not leave one finishing
/// the last long range alone.
/// </summary>
internal static class ChunkPlan
{
    public const long MinSplitRows = 25_000;

    public static async Task<List<Chunk>> PlanAsync(MySqlConnection connection, TableInfo table, long chunkRows, int workers, CancellationToken ct)
    {
        var whole = new List<Chunk> { new(table, 1, null, null) };
        var balanced = Math.Min(4L * workers, table.EstimatedRows / MinSplitRows);
        var wanted = Math.Max((table.EstimatedRows + chunkRows - 1) / chunkRows, balanced);
        if (!table.HasIntegerKey || wanted <= 1)
        {
            return whole;
        }

        var key = Identifiers.Quote(table.PrimaryKey[0]);
        await using var cmd = new MySqlCommand($"SELECT MIN({key}), MAX({key}) FROM {table.QualifiedName}", connection);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await r.ReadAsync(ct).ConfigureAwait(false);
        // Unsigned BIGINT keys above long.MaxValue are rare; such tables are dumped in one piece.
        if (r.IsDBNull(0) || (r.GetValue(1) is ulong big && big > long.MaxValue))
        {
            return whole;
        }

        var min = Convert.ToInt64(r.GetValue(0));
        var max = Convert.ToInt64(r.GetValue(1));
        var count = (int)Math.Clamp(wanted, 1, 10_000);
        // Int128: keys near long.MaxValue must not overflow the bounds.
        var step = (Int128)(max - (Int128)min) / count + 1;
        var chunks = new List<Chunk>();
        long? from = null;
        for (var i = 1; i < count && min + step * i <= max; i++)
        {
            var bound = (long)(min + step * i);
            chunks.Add(new Chunk(table, chunks.Count + 1, from, bound));
            from = bound;
        }

        chunks.Add(new Chunk(table, chunks.Count + 1, from, null));
        return chunks;
    }
}
