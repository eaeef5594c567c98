using System.Diagnostics;
using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Load;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Validation;

/// <summary>One table compared: Match, Missing (in the reference only), Extra (in the restore only), RowCount or Content.</summary>
public sealed record TableCheck(string Table, string Status, long? ExpectedRows, long? ActualRows, string? ExpectedDigest, string? ActualDigest)
{
    public bool Passed => Status is "Match" or "NotCompared";

    public override string ToString() => ActualRows is null && ExpectedRows is null ? $"{Table}: {Status}" : $"{Table}: {Status} (rows {ActualRows?.ToString() ?? "-"}, expected {ExpectedRows?.ToString() ?? "-"})";
}

/// <summary>One check of the report, with its evidence.</summary>
public sealed record ValidationCheck(string Name, bool Passed, string Evidence)
{
    public override string ToString() => $"{(Passed ? "PASS" : "FAIL")} {Name}: {Evidence}";
}

/// <summary>What Test-MySqlRestore found: every check, and the tables one by one.</summary>
public sealed record ValidationReport(
    string Target,
    string Schema,
    string Reference,
    bool Passed,
    IReadOnlyList<ValidationCheck> Checks,
    IReadOnlyList<TableCheck> Tables,
    IReadOnlyList<string> AlembicExpected,
    IReadOnlyList<string> AlembicActual,
    TimeSpan Elapsed)
{
    public IReadOnlyList<TableCheck> Mismatches => Tables.Where(t => !t.Passed).ToList();
}

/// <summary>The reference a restored schema is compared with: a schema on a server, a backup's recorded stats, or none.</summary>
public sealed record ValidationReference(MySqlEndpoint? Server = null, string? Schema = null, BackupInfo? Backup = null);

/// <summary>
/// Test-MySqlRestore's engine: the restore marker, the table set, each table's row count and
/// content digest (the dump's own digest, recomputed on both sides), and the Alembic revision.
/// Read-only on every server.
/// </summary>
public static class RestoreValidator
{
    public static async Task<ValidationReport> RunAsync(MySqlEndpoint target, string schema, ValidationReference reference, IReadOnlyList<string>? alembicHeads,
        IProgress<string>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var checks = new List<ValidationCheck>();
        await using var c = await MySqlConnections.OpenAsync(target, MySqlConnections.AsStored, ct).ConfigureAwait(false);
        if (!await SchemaExistsAsync(c, schema, ct).ConfigureAwait(false))
        {
            throw new EcomDrException(ErrorIds.SchemaNotFound, FailureKind.ObjectNotFound, $"Schema `{schema}` does not exist on {target.Display}.", schema);
        }

        var state = await RestoreMarker.ReadAsync(c, schema, ct).ConfigureAwait(false);
        checks.Add(state is null
            ? new ValidationCheck("Restore finished", true, $"no EcomDr restore recorded for `{schema}` (restored by another tool, or the live schema)")
            : new ValidationCheck("Restore finished", state.IsComplete,
                $"{state.Operation} of backup {state.BackupId}: {state.State}{(state.Reached.Length > 0 ? $" at {state.Reached}" : "")}{(state.Message.Length > 0 ? $" ({state.Message})" : "")}, started {state.StartedUtc:u}"));

        var actualTables = await SchemaReader.TablesAsync(c, schema, ct).ConfigureAwait(false);
        var actual = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var wire = await WireConnection.OpenAsync(target, ct).ConfigureAwait(false))
        {
            foreach (var table in actualTables)
            {
                progress?.Report($"{schema}.{table.Name}");
                actual[table.Name] = await TableDigest.ComputeAsync(wire, table, ct).ConfigureAwait(false);
            }
        }

        var (expected, referenceText) = await ExpectedAsync(reference, schema, progress, ct).ConfigureAwait(false);
        var tables = Compare(expected, actual);
        if (expected is not null)
        {
            var missing = tables.Where(t => t.Status == "Missing").Select(t => t.Table).ToList();
            var extra = tables.Where(t => t.Status == "Extra").Select(t => t.Table).ToList();
            checks.Add(new ValidationCheck("Table set", missing.Count == 0 && extra.Count == 0,
                $"{actual.Count} table(s), reference {expected.Count}" + (missing.Count > 0 ? $"; missing: {string.Join(", ", missing)}" : "") + (extra.Count > 0 ? $"; extra: {string.Join(", ", extra)}" : "")));
            var counted = tables.Where(t => t.Status is not ("Missing" or "Extra")).ToList();
            var badCounts = counted.Where(t => t.Status == "RowCount").ToList();
            checks.Add(new ValidationCheck("Row counts", badCounts.Count == 0,
                badCounts.Count == 0 ? $"{counted.Sum(t => t.ActualRows ?? 0):N0} row(s) in {counted.Count} table(s) equal the reference"
                    : string.Join("; ", badCounts.Select(t => $"{t.Table}: {t.ActualRows:N0}, expected {t.ExpectedRows:N0}"))));
            var badContent = counted.Where(t => t.Status == "Content").ToList();
            checks.Add(new ValidationCheck("Checksums", badContent.Count == 0 && badCounts.Count == 0,
                badContent.Count == 0 && badCounts.Count == 0 ? $"every table's content digest equals the reference's" : $"{badContent.Count + badCounts.Count} table(s) differ: {string.Join(", ", badContent.Concat(badCounts).Select(t => t.Table))}"));
        }

        var alembicActual = new List<string>();
        if (alembicHeads is { Count: > 0 })
        {
            if (actual.ContainsKey("alembic_version"))
            {
                await using var cmd = new MySqlCommand($"SELECT version_num FROM {Identifiers.Quote(schema)}.alembic_version ORDER BY version_num", c);
                await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await r.ReadAsync(ct).ConfigureAwait(false))
                {
                    alembicActual.Add(r.GetString(0));
                }
            }

            var equal = alembicActual.Order(StringComparer.Ordinal).SequenceEqual(alembicHeads.Order(StringComparer.Ordinal));
            checks.Add(new ValidationCheck("Alembic revision", equal,
                $"alembic_version holds {(alembicActual.Count == 0 ? "nothing" : string.Join(", ", alembicActual))}; expected head {string.Join(", ", alembicHeads)}"));
        }

        return new ValidationReport(target.Display, schema, referenceText, checks.All(x => x.Passed) && tables.All(t => t.Passed), checks, tables,
            alembicHeads ?? Array.Empty<string>(), alembicActual, clock.Elapsed);
    }

    private static async Task<(Dictionary<string, string>? Digests, string Text)> ExpectedAsync(ValidationReference reference, string schema, IProgress<string>? progress,
        CancellationToken ct)
    {
        if (reference.Backup is { } backup)
        {
            var stats = backup.Manifest?.Stats["tables"] as JsonObject
                ?? throw new EcomDrException(ErrorIds.ManifestInvalid, FailureKind.InvalidData, $"Backup {backup.Id} records no table statistics.", backup.Id);
            var sourceSchemas = stats.Select(p => p.Key[..p.Key.IndexOf('.', StringComparison.Ordinal)]).Distinct().ToList();
            var source = reference.Schema ?? (sourceSchemas.Count == 1 ? sourceSchemas[0] : schema);
            if (!sourceSchemas.Contains(source))
            {
                throw new EcomDrException(ErrorIds.SchemaNotFound, FailureKind.ObjectNotFound,
                    $"Backup {backup.Id} holds schemas {string.Join(", ", sourceSchemas)}, not `{source}`; name the one to compare with (-ReferenceSchema).", source);
            }

            var digests = stats.Where(p => p.Key.StartsWith(source + ".", StringComparison.Ordinal))
                .ToDictionary(p => p.Key[(source.Length + 1)..], p => (string)p.Value!["digest"]!, StringComparer.Ordinal);
            return (digests, $"backup {backup.Id} ({source}, as of {backup.Coordinates})");
        }

        if (reference.Schema is { } referenceSchema && reference.Server is { } server)
        {
            await using var c = await MySqlConnections.OpenAsync(server, MySqlConnections.AsStored, ct).ConfigureAwait(false);
            if (!await SchemaExistsAsync(c, referenceSchema, ct).ConfigureAwait(false))
            {
                throw new EcomDrException(ErrorIds.SchemaNotFound, FailureKind.ObjectNotFound, $"Reference schema `{referenceSchema}` does not exist on {server.Display}.", referenceSchema);
            }

            var digests = new Dictionary<string, string>(StringComparer.Ordinal);
            await using var wire = await WireConnection.OpenAsync(server, ct).ConfigureAwait(false);
            foreach (var table in await SchemaReader.TablesAsync(c, referenceSchema, ct).ConfigureAwait(false))
            {
                progress?.Report($"{referenceSchema}.{table.Name} (reference)");
                digests[table.Name] = await TableDigest.ComputeAsync(wire, table, ct).ConfigureAwait(false);
            }

            return (digests, $"`{referenceSchema}` on {server.Display}");
        }

        return (null, "none (tables listed, not compared)");
    }

    private static List<TableCheck> Compare(Dictionary<string, string>? expected, Dictionary<string, string> actual)
    {
        static long Rows(string digest) => long.Parse(digest[..digest.IndexOf(':', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
        if (expected is null)
        {
            return actual.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => new TableCheck(a.Key, "NotCompared", null, Rows(a.Value), null, a.Value)).ToList();
        }

        return expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal).Select(name =>
        {
            var e = expected.GetValueOrDefault(name);
            var a = actual.GetValueOrDefault(name);
            var status = e is null ? "Extra" : a is null ? "Missing" : e == a ? "Match" : Rows(e) != Rows(a) ? "RowCount" : "Content";
            return new TableCheck(name, status, e is null ? null : Rows(e), a is null ? null : Rows(a), e, a);
        }).ToList();
    }

    private static async Task<bool> SchemaExistsAsync(MySqlConnection c, string schema, CancellationToken ct)
    {
        await using var cmd = new MySqlCommand("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = @s", c);
        cmd.Parameters.AddWithValue("@s", schema);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false)) > 0;
    }
}
