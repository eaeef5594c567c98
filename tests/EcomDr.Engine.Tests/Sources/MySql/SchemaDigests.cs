using EcomDr.Engine.Credentials;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;
using EcomDr.TestKit.Servers;
using MySqlConnector;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>Every table's digest (rows and content) in a schema, as the backup's stats record them.</summary>
internal static class SchemaDigests
{
    public static async Task<Dictionary<string, string>> OfAsync(MariaDbServer server, string schema)
    {
        await using var c = new MySqlConnection(server.RootConnectionString + ";AllowZeroDateTime=true;ConvertZeroDateTime=false;TreatTinyAsBoolean=false");
        await c.OpenAsync();
        await using var wire = await WireConnection.OpenAsync(new MySqlEndpoint("127.0.0.1", server.Port, "root", Secret.Empty, "None"), CancellationToken.None);
        var result = new Dictionary<string, string>();
        foreach (var table in await SchemaReader.TablesAsync(c, schema, CancellationToken.None))
        {
            result[table.Name] = await TableDigest.ComputeAsync(wire, table, CancellationToken.None);
        }

        return result;
    }
}
