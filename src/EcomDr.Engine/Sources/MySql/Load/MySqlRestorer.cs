using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Load;

/// <summary>
/// Restores a full backup: tables first, then the data in parallel (one transaction per chunk,
/// checks deferred, optionally not binlogged), then views, routines, triggers and events, so no
/// trigger fires on loaded rows. Artifacts are authenticated frame by frame as they stream in and
/// their hashes checked at their end; a mismatch stops the restore with an error.
/// </summary>
public static class MySqlRestorer
{

    /// <summary>Refuses a target schema that already holds tables, unless forced. Changes nothing.</summary>
    public static async Task CheckTargetAsync(MySqlEndpoint target, RestorePlan plan, bool force, CancellationToken ct)
    {
        await using var c = await MySqlConnections.OpenAsync(target, MySqlConnections.AsStored, ct).ConfigureAwait(false);
        foreach (var schema in plan.SchemaMap.Values)
        {
            await using var cmd = new MySqlCommand("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = @s", c);
            cmd.Parameters.AddWithValue("@s", schema);
            var count = Convert.ToInt64(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false));
            if (count > 0 && !force)
            {
                throw new EcomDrException(ErrorIds.TargetNotEmpty, FailureKind.ResourceExists,
                    $"Target schema `{schema}` on {target.Display} already holds {count} table(s); restore into another schema (-TargetSchema) or use -Force to replace the restored tables.", schema);
            }
        }
    }

    /// <summary>
    /// Restores, with the target schemas marked running, then complete; a failure or cancellation
    /// removes what the restore created (unless KeepFailed) and records why (<see cref="RestoreMarker"/>).
    /// </summary>
    public static async Task<RestoreResult> RunAsync(RepositoryContext context, RestorePlan plan, MySqlEndpoint target, RestoreOptions options,
        IProgress<RestoreProgress>? progress, CancellationToken ct)
    {
        await using var lease = await ReadLease.TakeAsync(context, [plan.Backup], $"restore of {plan.Backup.Id}", ct).ConfigureAwait(false);
        await CheckTargetAsync(target, plan, options.Force, ct).ConfigureAwait(false);
        await VerifyFirstAsync(context, plan, Array.Empty<BackupInfo>(), options, progress, ct).ConfigureAwait(false);
        var schemas = plan.SchemaMap.Values.Distinct().ToList();
        await using var relaxed = options.FastTarget ? await RelaxedDurability.ApplyAsync(target, schemas, ct).ConfigureAwait(false) : null;
        var guard = await RestoreGuard.CaptureAsync(target, schemas, ct).ConfigureAwait(false);
        await RestoreMarker.BeginAsync(target, schemas, plan.Backup.Id, plan.Partial ? "partial restore" : "full restore", ct).ConfigureAwait(false);
        try
        {
            var result = await LoadAsync(context, plan, target, options, progress, ct).ConfigureAwait(false);
            await RestoreMarker.FinishAsync(target, schemas, RestoreMarker.Complete, $"{result.BinlogFile}:{result.BinlogPosition}", null).ConfigureAwait(false);
            return result;
        }
        catch (Exception ex)
        {
            var error = await FailedAsync(target, schemas, guard, options, "", ex is OperationCanceledException ? "cancelled" : ex.Message, ex).ConfigureAwait(false);
            if (ReferenceEquals(error, ex))
            {
                throw;
            }

            throw error;
        }
    }

    /// <summary>
    /// -VerifyFirst: every artifact the restore (and the replay after it) will read, checked against its
    /// signed SHA-256 before the target is touched.
    /// </summary>
    internal static async Task VerifyFirstAsync(RepositoryContext context, RestorePlan plan, IEnumerable<BackupInfo> more, RestoreOptions options,
        IProgress<RestoreProgress>? progress, CancellationToken ct)
    {
        if (!(options.VerifyFirst ?? ArtifactPreflight.DefaultFor(context)))
        {
            return;
        }

        var artifacts = plan.Chunks.Select(a => (plan.Backup, a))
            .Concat(plan.Backup.Manifest!.Artifacts.Where(a => !a.Name.StartsWith("data/", StringComparison.Ordinal)).Select(a => (plan.Backup, a)))
            .Concat(more.SelectMany(b => b.Manifest!.Artifacts.Select(a => (b, a)))).ToList();
        await ArtifactPreflight.VerifyAsync(context, artifacts, options.Workers,
            progress is null ? null : new Progress<(int Done, int Total)>(p => progress.Report(new RestoreProgress("Verify", $"{p.Done} of {p.Total} artifact(s)", 0, p.Done, p.Total))),
            ct).ConfigureAwait(false);
    }

    /// <summary>
    /// After a failure: removes what the restore created unless KeepFailed, records the outcome with its
    /// reason, and returns the error to throw, which says what was removed.
    /// </summary>
    internal static async Task<Exception> FailedAsync(MySqlEndpoint target, IReadOnlyList<string> schemas, RestoreGuard guard, RestoreOptions options, string reached, string why,
        Exception error)
    {
        string note;
        string state;
        if (options.KeepFailed)
        {
            state = RestoreMarker.Incomplete;
            note = "what it restored was kept (-KeepFailed) and is marked incomplete";
        }
        else
        {
            state = RestoreMarker.Failed;
            note = await guard.UndoAsync(target).ConfigureAwait(false) + " (-KeepFailed keeps a failed restore for forensics)";
        }

        await RestoreMarker.FinishAsync(target, schemas, state, reached, $"{why} Then: {note}.").ConfigureAwait(false);
        return error is EcomDrException e ? new EcomDrException(e.ErrorId, e.Kind, $"{e.Message.TrimEnd()} The restore into {target.Display} failed: {note}.", e.Target, e) : error;
    }

    /// <summary>
    /// The restore itself, unmarked: point-in-time recovery marks the schemas over restore and replay
    /// together. Callers check the target first (<see cref="CheckTargetAsync"/>), before marking it.
    /// </summary>
    internal static async Task<RestoreResult> LoadAsync(RepositoryContext context, RestorePlan plan, MySqlEndpoint target, RestoreOptions options,
        IProgress<RestoreProgress>? progress, CancellationToken ct)
    {
        var total = Stopwatch.StartNew();
        var clock = Stopwatch.StartNew();
        var early = new Dictionary<(string Schema, string Table), (string Table, string Alter)>();
        var keyCounts = new Dictionary<(string Schema, string Table), int>();
        var foreign = new List<(string Table, string Alter)>();
        await using (var c = await OpenAsync(target, options, ct).ConfigureAwait(false))
        {
            foreach (var definition in plan.Schemas)
            {
                var schema = plan.SchemaMap[definition.Schema];
                await Sql.ExecAsync(c, $"CREATE DATABASE IF NOT EXISTS {Identifiers.Quote(schema)} CHARACTER SET {definition.CharacterSet} COLLATE {definition.Collation}", ct).ConfigureAwait(false);
                await c.ChangeDatabaseAsync(schema, ct).ConfigureAwait(false);
                foreach (var table in definition.Tables.Where(t => plan.Tables.Contains((definition.Schema, t.Name))))
                {
                    progress?.Report(new RestoreProgress("Tables", $"{schema}.{table.Name}", 0, 0, plan.Chunks.Count));
                    if (options.Force)
                    {
                        await Sql.ExecAsync(c, $"DROP TABLE IF EXISTS {Identifiers.Quote(table.Name)}", ct).ConfigureAwait(false);
                    }

                    var ddl = DdlRewriter.RenameSchemas(table.Ddl, plan.SchemaMap);
                    var split = options.DeferKeys ? DeferredKeys.Apply(ddl) : new DeferredKeys.Split(ddl, null, 0);
                    await Sql.ExecAsync(c, split.CreateTable, ct).ConfigureAwait(false);
                    var quoted = $"{Identifiers.Quote(schema)}.{Identifiers.Quote(table.Name)}";
                    if (split.KeyClauses is { } keys)
                    {
                        early[(schema, table.Name)] = (quoted, keys);
                        keyCounts[(schema, table.Name)] = split.KeyCount;
                    }

                    if (split.ForeignKeyClauses is { } references)
                    {
                        foreign.Add((quoted, references));
                    }
                }
            }
        }

        var schemaPhase = clock.Elapsed;
        clock.Restart();
        var (loadable, rowFormat) = options.LoadData ? await LoadDataChunk.TargetTablesAsync(target, plan, options, ct).ConfigureAwait(false) : (new(), false);
        long rows = 0, bytes = 0;
        int done = 0, retries = 0, loadDataChunks = 0, keysBuilt = 0;
        var dataPhase = TimeSpan.Zero;

        // A table's keys are built as soon as its last chunk has committed, beside the other tables'
        // loads, so that the longest index builds do not wait for the end of the data: the tables whose
        // keys cost most to build (rows times keys, from the backup's statistics) load first, each
        // table's chunks together, then the others by size. Foreign keys wait for all the data: they
        // name other tables.
        static (string Schema, string Table) SourceOf(ArtifactEntry chunk)
        {
            var parts = chunk.Name.Split('/');
            return (ArtifactNames.Decode(parts[1]), ArtifactNames.Decode(parts[2].Split('.')[0]));
        }

        (string Schema, string Table) TableOf(ArtifactEntry chunk)
        {
            var (schema, name) = SourceOf(chunk);
            return (plan.SchemaMap[schema], name);
        }

        var tableStats = plan.Backup.Manifest!.Stats["tables"] as System.Text.Json.Nodes.JsonObject;
        long RowsOf(IGrouping<(string, string), ArtifactEntry> table)
        {
            var (schema, name) = SourceOf(table.First());
            return (long?)tableStats?[$"{schema}.{name}"]?["rows"] ?? table.Sum(chunk => chunk.PlainSize) / 100;
        }

        var tables = plan.Chunks.GroupBy(TableOf).ToList();
        var queue = new ConcurrentQueue<ArtifactEntry>(tables
            .OrderByDescending(table => RowsOf(table) * keyCounts.GetValueOrDefault(table.Key))
            .ThenByDescending(table => table.Sum(chunk => chunk.PlainSize))
            .SelectMany(table => table));

        var chunksLeft = tables.ToDictionary(g => g.Key, g => g.Count());
        var ready = Channel.CreateUnbounded<(string Table, string Alter)>();
        foreach (var empty in early.Where(e => !chunksLeft.ContainsKey(e.Key)))
        {
            ready.Writer.TryWrite(empty.Value);
        }

        var pending = plan.Chunks.Count;
        if (pending == 0)
        {
            ready.Writer.TryComplete();
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Exception? failure = null;
        var workers = Task.WhenAll(Enumerable.Range(0, Math.Max(1, Math.Min(options.Workers, plan.Chunks.Count + early.Count))).Select(_ => Task.Run(async () =>
        {
            try
            {
                await using var c = await OpenLoaderAsync(target, options, stop.Token, localFiles: loadable.Count > 0, rowFormat).ConfigureAwait(false);
                while (true)
                {
                    if (ready.Reader.TryRead(out var alter))
                    {
                        await AddKeysAsync(c, alter, stop.Token).ConfigureAwait(false);
                        progress?.Report(new RestoreProgress("Keys", alter.Table, 0, Interlocked.Increment(ref keysBuilt), early.Count));
                        continue;
                    }

                    if (!queue.TryDequeue(out var chunk))
                    {
                        // Nothing to load: build the keys of tables still loading elsewhere, until every chunk is in.
                        if (!await ready.Reader.WaitToReadAsync(stop.Token).ConfigureAwait(false))
                        {
                            break;
                        }

                        continue;
                    }

                    var table = TableOf(chunk);
                    await c.ExecuteAsync($"USE {Identifiers.Quote(table.Schema)}", stop.Token).ConfigureAwait(false);
                    var (chunkRows, chunkBytes, chunkRetries, loadData) = await LoadChunkAsync(context, plan.Backup, chunk, c, loadable.GetValueOrDefault(table), stop.Token)
                        .ConfigureAwait(false);
                    if (loadData)
                    {
                        Interlocked.Increment(ref loadDataChunks);
                    }

                    Interlocked.Add(ref retries, chunkRetries);
                    Interlocked.Add(ref bytes, chunkBytes);
                    var doneNow = Interlocked.Increment(ref done);
                    var rowsNow = Interlocked.Add(ref rows, chunkRows);
                    progress?.Report(new RestoreProgress("Data", chunk.Name, rowsNow, doneNow, plan.Chunks.Count));
                    bool tableDone;
                    lock (chunksLeft)
                    {
                        tableDone = --chunksLeft[table] == 0;
                    }

                    if (tableDone && early.TryGetValue(table, out var keys))
                    {
                        ready.Writer.TryWrite(keys);
                    }

                    if (Interlocked.Decrement(ref pending) == 0)
                    {
                        dataPhase = clock.Elapsed;
                        ready.Writer.TryComplete();
                    }
                }
            }
            catch (Exception ex)
            {
                // The others stop too (none waits for keys that will not come); the first failure is the one reported.
                if (!stop.IsCancellationRequested)
                {
                    Interlocked.CompareExchange(ref failure, ex, null);
                }

                stop.Cancel();
                ready.Writer.TryComplete();
                throw;
            }
        }, stop.Token)));
        try
        {
            await workers.ConfigureAwait(false);
        }
        catch when (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }

        var keysAfterData = clock.Elapsed - dataPhase;
        clock.Restart();
        await AddDeferredKeysAsync(target, options, foreign, progress, ct).ConfigureAwait(false);
        var keysPhase = keysAfterData + clock.Elapsed;

        clock.Restart();
        await using (var c = await OpenAsync(target, options, ct).ConfigureAwait(false))
        {
            foreach (var definition in plan.Schemas)
            {
                await c.ChangeDatabaseAsync(plan.SchemaMap[definition.Schema], ct).ConfigureAwait(false);
                var objects = plan.Partial
                    ? definition.Objects.Where(o => o.Type == "TRIGGER" && plan.Tables.Any(t => t.Schema == definition.Schema && TriggerTable(o) == t.Table)).ToList()
                    : definition.Objects;
                await CreateObjectsAsync(c, objects, plan.SchemaMap, options.Force, progress, ct).ConfigureAwait(false);
            }

            if (options.IncludeUsers && plan.Backup.Manifest!.Artifacts.FirstOrDefault(a => a.Name == "users.sql") is { } users)
            {
                await foreach (var statement in StatementsAsync(context, plan.Backup, users, ct).ConfigureAwait(false))
                {
                    await Sql.ExecAsync(c, statement, ct).ConfigureAwait(false);
                }
            }
        }

        var source = plan.Backup.Manifest!.Source;
        return new RestoreResult(plan.Backup.Id, target.Display, plan.SchemaMap, plan.Tables.Count, plan.Chunks.Count, rows, bytes,
            schemaPhase, dataPhase, keysPhase, clock.Elapsed, total.Elapsed, (string?)source["binlogFile"] ?? "", (long?)source["binlogPosition"] ?? 0,
            (string?)source["gtidSet"] ?? "", retries) { LoadDataChunks = loadDataChunks };
    }

    /// <summary>Adds the deferred foreign keys, one ALTER per table, tables in parallel.</summary>
    private static async Task AddDeferredKeysAsync(MySqlEndpoint target, RestoreOptions options, List<(string Table, string Alter)> deferred,
        IProgress<RestoreProgress>? progress, CancellationToken ct)
    {
        var queue = new ConcurrentQueue<(string Table, string Alter)>(deferred);
        var done = 0;
        await Task.WhenAll(Enumerable.Range(0, Math.Min(options.Workers, deferred.Count)).Select(_ => Task.Run(async () =>
        {
            await using var c = await OpenLoaderAsync(target, options, ct).ConfigureAwait(false);
            while (queue.TryDequeue(out var item))
            {
                await AddKeysAsync(c, item, ct).ConfigureAwait(false);
                progress?.Report(new RestoreProgress("Keys", item.Table, 0, Interlocked.Increment(ref done), deferred.Count));
            }
        }, ct))).ConfigureAwait(false);
    }

    private static async Task AddKeysAsync(WireConnection c, (string Table, string Alter) item, CancellationToken ct)
    {
        try
        {
            await c.ExecuteAsync($"ALTER TABLE {item.Table} {item.Alter}", ct).ConfigureAwait(false);
        }
        catch (WireServerException ex)
        {
            throw new EcomDrException(ErrorIds.RestoreFailed, FailureKind.InvalidOperation, $"Adding the keys of {item.Table} failed: {ex.Message}", item.Table, ex);
        }
    }

    private static string TriggerTable(SchemaObject trigger)
    {
        var match = System.Text.RegularExpressions.Regex.Match(trigger.Ddl, @"\bON\s+(?:`(?:[^`]|``)*`\.)?`?(?<t>(?:[^`\s]|``)+)`?\s+FOR\s+EACH\s+ROW", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        return match.Groups["t"].Value.Replace("``", "`", StringComparison.Ordinal);
    }

    private static async Task<(long Rows, long Bytes, int Retries, bool LoadData)> LoadChunkAsync(RepositoryContext context, BackupInfo backup, ArtifactEntry chunk,
        WireConnection c, IReadOnlyDictionary<string, string>? columns, CancellationToken ct)
    {
        // Parallel loads into one table can deadlock on InnoDB's index locks. A chunk is one
        // transaction, so a deadlock or lock-wait victim is rolled back whole and loaded again.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var (rows, bytes, loadData) = await LoadChunkOnceAsync(context, backup, chunk, c, columns, ct).ConfigureAwait(false);
                return (rows, bytes, attempt - 1, loadData);
            }
            catch (WireServerException ex) when (IsRetryable(ex) && attempt < MaxLoadAttempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt * attempt + Random.Shared.Next(50)), ct).ConfigureAwait(false);
            }
            catch (WireServerException ex)
            {
                var tries = IsRetryable(ex) ? $" (after {attempt} attempts)" : "";
                throw new EcomDrException(ErrorIds.RestoreFailed, FailureKind.InvalidOperation, $"Loading {chunk.Name} failed{tries}: {ex.Message}", chunk.Name, ex);
            }
        }
    }

    private const int MaxLoadAttempts = 8;

    private static bool IsRetryable(WireServerException ex) =>
        ex.Code is WireServerException.LockDeadlock or WireServerException.LockWaitTimeout;

    /// <summary>
    /// Loads one chunk in one transaction, sending each line's bytes as they are. The artifact's hashes
    /// are checked when its stream ends, before COMMIT: a mismatch rolls the chunk back.
    /// </summary>
    private static async Task<(long Rows, long Bytes, bool LoadData)> LoadChunkOnceAsync(RepositoryContext context, BackupInfo backup, ArtifactEntry chunk,
        WireConnection c, IReadOnlyDictionary<string, string>? columns, CancellationToken ct)
    {
        long rows = 0;
        var loadData = false;
        await c.ExecuteAsync("START TRANSACTION", ct).ConfigureAwait(false);
        try
        {
            await using var stream = await ArtifactReader.OpenAsync(context.Store, backup.Prefix + chunk.Path, chunk, context.KeyProviders, ct).ConfigureAwait(false);
            await using var lines = SqlLines.ReadAsync(stream, ct).GetAsyncEnumerator(ct);
            var more = await lines.MoveNextAsync().ConfigureAwait(false);
            while (more)
            {
                var statement = lines.Current;
                if (statement.Span.SequenceEqual(RelaxUniqueChecks))
                {
                    // The chunk says so for the stock client. Here it would make the first chunk into an
                    // empty table a bulk insert, which locks the table until it commits: the table's
                    // other chunks would wait instead of loading beside it.
                    more = await lines.MoveNextAsync().ConfigureAwait(false);
                    continue;
                }

                var prefixLength = columns is null ? 0 : LoadDataChunk.PrefixLength(statement.Span);
                var load = prefixLength > 0 ? LoadDataChunk.Statement(statement.Span[..prefixLength], columns!) : null;
                if (load is null)
                {
                    var affected = await c.ExecuteAsync(statement, ct).ConfigureAwait(false);
                    if (statement.Span.StartsWith("INSERT"u8))
                    {
                        rows += affected;
                    }

                    more = await lines.MoveNextAsync().ConfigureAwait(false);
                    continue;
                }

                // This line and the following ones of the same INSERT prefix: one LOAD DATA.
                var prefix = statement[..prefixLength].ToArray();
                loadData = true;
                var loaded = await c.LoadLocalAsync(load, async sink =>
                {
                    do
                    {
                        await sink.WriteAsync(lines.Current[prefix.Length..], ct).ConfigureAwait(false);
                        more = await lines.MoveNextAsync().ConfigureAwait(false);
                    }
                    while (more && lines.Current.Span.StartsWith(prefix));
                }, ct).ConfigureAwait(false);
                if (loaded.Skipped > 0)
                {
                    // LOAD DATA LOCAL skips a duplicate key with a warning where INSERT fails: never silently.
                    throw new EcomDrException(ErrorIds.RestoreFailed, FailureKind.InvalidData,
                        $"Loading {chunk.Name} skipped {loaded.Skipped} row(s) that duplicate a key already in the target ({loaded.Info}).", chunk.Name);
                }

                rows += loaded.AffectedRows;
            }

            await c.ExecuteAsync("COMMIT", ct).ConfigureAwait(false);
        }
        catch
        {
            try
            {
                await c.ExecuteAsync("ROLLBACK", CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WireServerException or IOException or InvalidOperationException or EndOfStreamException)
            {
                // the connection is gone; the server rolls the transaction back itself
            }

            throw;
        }

        return (rows, chunk.PlainSize, loadData);
    }

    /// <summary>Statements of a SQL artifact written by the dump: one per line, ending with ';'.</summary>
    private static async IAsyncEnumerable<string> StatementsAsync(RepositoryContext context, BackupInfo backup, ArtifactEntry artifact,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var stream = await ArtifactReader.OpenAsync(context.Store, backup.Prefix + artifact.Path, artifact, context.KeyProviders, ct).ConfigureAwait(false);
        var strict = new UTF8Encoding(false, true);
        await foreach (var line in SqlLines.ReadAsync(stream, ct).ConfigureAwait(false))
        {
            yield return strict.GetString(line.Span);
        }

        // Reading to the end checked the artifact's hashes; a mismatch was thrown above.
    }

    internal static async Task CreateObjectsAsync(MySqlConnection c, IReadOnlyList<SchemaObject> objects, IReadOnlyDictionary<string, string> map,
        bool force, IProgress<RestoreProgress>? progress, CancellationToken ct)
    {
        // Views may depend on views: create what can be created, retry the rest while that makes progress.
        var pending = objects.ToList();
        while (pending.Count > 0)
        {
            var failed = new List<(SchemaObject Object, MySqlException Error)>();
            foreach (var obj in pending)
            {
                progress?.Report(new RestoreProgress("Objects", $"{obj.Type} {obj.Name}", 0, 0, 0));
                try
                {
                    if (force)
                    {
                        await Sql.ExecAsync(c, $"DROP {obj.Type} IF EXISTS {Identifiers.Quote(obj.Name)}", ct).ConfigureAwait(false);
                    }

                    if (obj.SqlMode is not null)
                    {
                        await using var mode = new MySqlCommand("SET SESSION sql_mode = @m", c);
                        mode.Parameters.AddWithValue("@m", obj.SqlMode);
                        await mode.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                    }

                    await Sql.ExecAsync(c, DdlRewriter.RenameSchemas(obj.Ddl, map), ct).ConfigureAwait(false);
                }
                catch (MySqlException ex) when (obj.Type == "VIEW")
                {
                    failed.Add((obj, ex));
                }
                catch (MySqlException ex)
                {
                    throw new EcomDrException(ErrorIds.RestoreFailed, FailureKind.InvalidOperation, $"Creating {obj.Type} {obj.Name} failed: {ex.Message}", obj.Name, ex);
                }
            }

            if (failed.Count == pending.Count)
            {
                throw new EcomDrException(ErrorIds.RestoreFailed, FailureKind.InvalidOperation,
                    $"Creating VIEW {failed[0].Object.Name} failed: {failed[0].Error.Message}", failed[0].Object.Name, failed[0].Error);
            }

            pending = failed.Select(f => f.Object).ToList();
        }
    }

    /// <summary>A data-load session over EcomDr's own client: chunk lines go to the server as the bytes they are.</summary>
    private static async Task<WireConnection> OpenLoaderAsync(MySqlEndpoint target, RestoreOptions options, CancellationToken ct, bool localFiles = false,
        bool rowFormat = false)
    {
        var c = await WireConnection.OpenAsync(target, ct, localFiles: localFiles).ConfigureAwait(false);
        try
        {
            await c.ExecuteAsync(LoaderSettings, ct).ConfigureAwait(false);
            if (rowFormat)
            {
                await c.ExecuteAsync("SET SESSION binlog_format = 'ROW'", ct).ConfigureAwait(false);
            }

            if (options.NoBinlog)
            {
                await c.ExecuteAsync("SET SESSION sql_log_bin = 0", ct).ConfigureAwait(false);
            }
        }
        catch (WireServerException ex)
        {
            await c.DisposeAsync().ConfigureAwait(false);
            throw SessionFailed(target, options, ex);
        }

        return c;
    }

    private static ReadOnlySpan<byte> RelaxUniqueChecks => "SET unique_checks = 0"u8;

    /// <summary>Loader sessions keep unique_checks on: see <see cref="RelaxUniqueChecks"/>.</summary>
    private const string LoaderSettings = "SET SESSION time_zone = '+00:00', foreign_key_checks = 0, unique_checks = 1, sql_mode = 'NO_AUTO_VALUE_ON_ZERO'";

    private const string SessionSettings = "SET SESSION time_zone = '+00:00', foreign_key_checks = 0, unique_checks = 0, sql_mode = 'NO_AUTO_VALUE_ON_ZERO'";

    private static EcomDrException SessionFailed(MySqlEndpoint target, RestoreOptions options, Exception ex) =>
        new(ErrorIds.RestoreSessionFailed, EngineErrors.Translate(ex)?.Kind == FailureKind.PermissionDenied ? FailureKind.PermissionDenied : FailureKind.InvalidOperation,
            $"Preparing a restore session on {target.Display} failed: {ex.Message}" + (options.NoBinlog ? " (-NoBinlog needs the SUPER or BINLOG ADMIN privilege)" : ""), target.Display, ex);

    private static async Task<MySqlConnection> OpenAsync(MySqlEndpoint target, RestoreOptions options, CancellationToken ct)
    {
        var c = await MySqlConnections.OpenAsync(target, MySqlConnections.AsStored, ct).ConfigureAwait(false);
        try
        {
            await Sql.ExecAsync(c, SessionSettings, ct).ConfigureAwait(false);
            if (options.NoBinlog)
            {
                await Sql.ExecAsync(c, "SET SESSION sql_log_bin = 0", ct).ConfigureAwait(false);
            }
        }
        catch (MySqlException ex)
        {
            await c.DisposeAsync().ConfigureAwait(false);
            throw SessionFailed(target, options, ex);
        }

        return c;
    }
}
