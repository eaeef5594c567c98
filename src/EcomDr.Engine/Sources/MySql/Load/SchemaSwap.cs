using System.Diagnostics;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Shared;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Load;

/// <summary>What a swap will do (or did): which tables move where, which objects are recreated, and how to undo it.</summary>
public sealed record SchemaSwapPlan(string Server, string From, string To, string? PreviousSchema, IReadOnlyList<string> FromTables, IReadOnlyList<string> ToTables,
    IReadOnlyList<string> FromObjects, IReadOnlyList<string> ToObjects)
{
    /// <summary>The one statement that moves every table: atomic on the server.</summary>
    public string RenameStatement =>
        "RENAME TABLE " + string.Join(", ",
            ToTables.Select(t => $"{Q(To)}.{Q(t)} TO {Q(PreviousSchema!)}.{Q(t)}").Concat(FromTables.Select(t => $"{Q(From)}.{Q(t)} TO {Q(To)}.{Q(t)}")));

    public string Describe() =>
        (PreviousSchema is null ? $"`{To}` does not exist: create it; " : $"move `{To}`'s {ToTables.Count} table(s) to `{PreviousSchema}`, ") +
        $"move `{From}`'s {FromTables.Count} table(s) to `{To}` in one RENAME TABLE, recreate {ToObjects.Count + FromObjects.Count} view(s)/routine(s)/trigger(s)/event(s) beside their tables, drop the emptied `{From}`";

    private static string Q(string name) => Identifiers.Quote(name);
}

/// <summary>What a swap did.</summary>
public sealed record SchemaSwapResult(string Server, string From, string To, string? PreviousSchema, int TablesMoved, int ObjectsMoved, string SwapBack, TimeSpan Elapsed);

/// <summary>
/// Switch-MySqlSchema's engine: puts a restored schema in the live one's place. Every table moves in
/// one multi-table RENAME TABLE, which the server applies atomically (the live tables to
/// `&lt;to&gt;_pre_restore_&lt;UTC time&gt;`, the restored ones under the live name). Views, routines,
/// triggers and events do not move with RENAME (triggers even block it across schemas), so they are
/// dropped first and recreated beside their tables afterwards from their recorded definitions.
/// </summary>
public static class SchemaSwap
{
    public static async Task<SchemaSwapPlan> PlanAsync(MySqlEndpoint server, string from, string to, bool force, DateTimeOffset now, CancellationToken ct)
    {
        if (from == to)
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, $"-From and -To are both `{from}`.", from);
        }

        foreach (var name in new[] { from, to }.Where(n => SchemaReader.SystemSchemas.Contains(n) || n == "ecomdr"))
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, $"`{name}` is a system schema; it is never swapped. Nothing was changed.", name);
        }

        await using var c = await MySqlConnections.OpenAsync(server, MySqlConnections.AsStored, ct).ConfigureAwait(false);
        var schemas = await SchemaReader.SelectSchemasAsync(c, null, ct).ConfigureAwait(false);
        if (!schemas.Contains(from))
        {
            throw new EcomDrException(ErrorIds.SchemaNotFound, FailureKind.ObjectNotFound, $"Schema `{from}` does not exist on {server.Display}. Nothing was changed.", from);
        }

        var fromTables = (await SchemaReader.TablesAsync(c, from, ct).ConfigureAwait(false)).Select(t => t.Name).ToList();
        if (fromTables.Count == 0)
        {
            throw new EcomDrException(ErrorIds.SchemaNotFound, FailureKind.InvalidArgument, $"Schema `{from}` holds no table: nothing to swap in. Nothing was changed.", from);
        }

        var state = await RestoreMarker.ReadAsync(c, from, ct).ConfigureAwait(false);
        if (state is { IsComplete: false } && !force)
        {
            throw new EcomDrException(ErrorIds.RestoreIncomplete, FailureKind.InvalidOperation,
                $"The {state.Operation} into `{from}` (backup {state.BackupId}, started {state.StartedUtc:u}) is {state.State}{(state.Message.Length > 0 ? $": {state.Message}" : "")}. " +
                "A partial schema is not swapped in; restore again, or use -Force if you know why. Nothing was changed.", from);
        }

        string? previous = null;
        var toTables = new List<string>();
        var toObjects = new List<string>();
        if (schemas.Contains(to))
        {
            // Named for the second it is made; a second swap within that second takes the next free suffix.
            var stem = $"{to}_pre_restore_{now.UtcDateTime:yyyyMMddHHmmss}";
            previous = stem;
            for (var n = 2; schemas.Contains(previous); n++)
            {
                previous = $"{stem}_{n}";
            }

            if (previous.Length > 64)
            {
                throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, $"`{previous}` is longer than 64 characters, the longest schema name.", to);
            }

            var tables = await SchemaReader.TablesAsync(c, to, ct).ConfigureAwait(false);
            toTables = tables.Select(t => t.Name).ToList();
            toObjects = (await SchemaReader.DefinitionAsync(c, to, Array.Empty<TableInfo>(), ct).ConfigureAwait(false)).Objects.Select(o => $"{o.Type} {o.Name}").ToList();
        }

        var fromObjects = (await SchemaReader.DefinitionAsync(c, from, Array.Empty<TableInfo>(), ct).ConfigureAwait(false)).Objects.Select(o => $"{o.Type} {o.Name}").ToList();
        return new SchemaSwapPlan(server.Display, from, to, previous, fromTables, toTables, fromObjects, toObjects);
    }

    public static async Task<SchemaSwapResult> RunAsync(MySqlEndpoint server, SchemaSwapPlan plan, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        await using var c = await MySqlConnections.OpenAsync(server, MySqlConnections.AsStored, ct).ConfigureAwait(false);
        // Definitions are read again here, on the connection that changes them, so none is lost between plan and run.
        var fromDefinition = await SchemaReader.DefinitionAsync(c, plan.From, Array.Empty<TableInfo>(), ct).ConfigureAwait(false);
        var toDefinition = plan.PreviousSchema is null ? null : await SchemaReader.DefinitionAsync(c, plan.To, Array.Empty<TableInfo>(), ct).ConfigureAwait(false);
        var receiving = toDefinition ?? fromDefinition;
        var holder = plan.PreviousSchema ?? plan.To;
        await Sql.ExecAsync(c, $"CREATE DATABASE {Identifiers.Quote(holder)} CHARACTER SET {receiving.CharacterSet} COLLATE {receiving.Collation}", ct).ConfigureAwait(false);

        var dropped = new List<(string Schema, SchemaDefinition Definition)>();
        try
        {
            foreach (var definition in new[] { toDefinition, fromDefinition }.OfType<SchemaDefinition>())
            {
                await DropObjectsAsync(c, definition, ct).ConfigureAwait(false);
                dropped.Add((definition.Schema, definition));
            }

            await Sql.ExecAsync(c, plan.RenameStatement, ct).ConfigureAwait(false);
        }
        catch (MySqlException ex)
        {
            // Nothing moved: put back what was dropped, as it was, and the empty schema made for the swap.
            foreach (var (schema, definition) in dropped)
            {
                await c.ChangeDatabaseAsync(schema, CancellationToken.None).ConfigureAwait(false);
                await MySqlRestorer.CreateObjectsAsync(c, definition.Objects, new Dictionary<string, string>(), true, null, CancellationToken.None).ConfigureAwait(false);
            }

            await Sql.ExecAsync(c, $"DROP DATABASE IF EXISTS {Identifiers.Quote(holder)}", CancellationToken.None).ConfigureAwait(false);
            throw new EcomDrException(ErrorIds.SwapFailed, FailureKind.InvalidOperation, $"Swapping `{plan.From}` into `{plan.To}` failed before any table moved: {ex.Message}. Nothing was changed.", plan.From, ex);
        }

        try
        {
            // The tables have moved; from here a failure leaves them swapped and says which objects are missing.
            if (toDefinition is not null)
            {
                await c.ChangeDatabaseAsync(plan.PreviousSchema!, ct).ConfigureAwait(false);
                await MySqlRestorer.CreateObjectsAsync(c, toDefinition.Objects, new Dictionary<string, string> { [plan.To] = plan.PreviousSchema! }, false, null, ct).ConfigureAwait(false);
            }

            await c.ChangeDatabaseAsync(plan.To, ct).ConfigureAwait(false);
            await MySqlRestorer.CreateObjectsAsync(c, fromDefinition.Objects, new Dictionary<string, string> { [plan.From] = plan.To }, false, null, ct).ConfigureAwait(false);
            // The restore records follow their data (outside the binlog where allowed, like every record of them).
            if (plan.PreviousSchema is not null && await RestoreMarker.ReadAsync(c, plan.To, ct).ConfigureAwait(false) is not null)
            {
                await RestoreMarker.RenameAsync(server, plan.To, plan.PreviousSchema, ct).ConfigureAwait(false);
            }

            if (await RestoreMarker.ReadAsync(c, plan.From, ct).ConfigureAwait(false) is not null)
            {
                await RestoreMarker.RenameAsync(server, plan.From, plan.To, ct).ConfigureAwait(false);
            }

            await Sql.ExecAsync(c, $"DROP DATABASE {Identifiers.Quote(plan.From)}", ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MySqlException or EcomDrException)
        {
            throw new EcomDrException(ErrorIds.SwapFailed, FailureKind.InvalidOperation,
                $"The tables were swapped (`{plan.From}` is now `{plan.To}`, the old `{plan.To}` is `{plan.PreviousSchema}`), but recreating the views, routines, triggers and events failed: {ex.Message}. " +
                $"Recreate them from `{plan.PreviousSchema}` or the backup's schema, or swap back.", plan.To, ex);
        }

        var swapBack = plan.PreviousSchema is null ? $"RENAME the tables of `{plan.To}` back to `{plan.From}` (there was no `{plan.To}` before)"
            : $"Switch-MySqlSchema -From {plan.PreviousSchema} -To {plan.To}";
        return new SchemaSwapResult(plan.Server, plan.From, plan.To, plan.PreviousSchema, plan.FromTables.Count + plan.ToTables.Count,
            fromDefinition.Objects.Count + (toDefinition?.Objects.Count ?? 0), swapBack, clock.Elapsed);
    }

    private static async Task DropObjectsAsync(MySqlConnection c, SchemaDefinition definition, CancellationToken ct)
    {
        // Views last-created-first, so a view another depends on goes after it.
        foreach (var obj in definition.Objects.AsEnumerable().Reverse())
        {
            await Sql.ExecAsync(c, $"DROP {obj.Type} IF EXISTS {Identifiers.Quote(definition.Schema)}.{Identifiers.Quote(obj.Name)}", ct).ConfigureAwait(false);
        }
    }
}
