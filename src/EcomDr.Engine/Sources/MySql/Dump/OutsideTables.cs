using System.Text.Json;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Shared;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Dump;

/// <summary>A base table outside the backed-up schemas, with its CREATE TABLE statement as the server shows it.</summary>
public sealed record OutsideTable(string Schema, string Name, string Create);

/// <summary>
/// The structure of every base table outside the backed-up schemas, kept in a full backup (artifact
/// <see cref="ArtifactName"/>, no rows): a restored table later created LIKE one of them gets the
/// structure that table had then, on a target that holds no such table (docs/pitr.md, "Structure read
/// from outside the restored schemas").
/// </summary>
public static class OutsideTables
{
    public const string ArtifactName = "outside-tables.json";

    private const int NoSuchTable = 1146;

    public static async Task<List<OutsideTable>> ReadAsync(MySqlConnection c, IReadOnlyCollection<string> backedUp, CancellationToken ct)
    {
        var names = new List<(string Schema, string Name)>();
        await using (var cmd = new MySqlCommand("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME", c))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                var schema = r.GetString(0);
                if (!SchemaReader.SystemSchemas.Contains(schema) && !backedUp.Contains(schema, StringComparer.Ordinal))
                {
                    names.Add((schema, r.GetString(1)));
                }
            }
        }

        var tables = new List<OutsideTable>(names.Count);
        foreach (var (schema, name) in names)
        {
            try
            {
                await using var cmd = new MySqlCommand($"SHOW CREATE TABLE {Identifiers.Quote(schema)}.{Identifiers.Quote(name)}", c);
                await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
                if (await r.ReadAsync(ct).ConfigureAwait(false))
                {
                    tables.Add(new OutsideTable(schema, name, r.GetString(1)));
                }
            }
            catch (MySqlException ex) when (ex.ErrorCode == (MySqlErrorCode)NoSuchTable)
            {
                // dropped since it was listed: not there at the backup's point either
            }
        }

        return tables;
    }

    public static byte[] Serialize(IReadOnlyList<OutsideTable> tables) => JsonSerializer.SerializeToUtf8Bytes(tables, ManifestCodec.Options);

    public static IReadOnlyList<OutsideTable> Deserialize(byte[] json) => JsonSerializer.Deserialize<List<OutsideTable>>(json, ManifestCodec.Options) ?? new List<OutsideTable>();
}
