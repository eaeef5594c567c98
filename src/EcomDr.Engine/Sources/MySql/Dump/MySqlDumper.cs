using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Dump;

/// <summary>What a full backup produced, beside its BackupInfo.</summary>
public sealed record DumpResult(BackupInfo Backup, SnapshotPoint Snapshot, long Rows, long PlainBytes, int Tables, int Chunks);

/// <summary>
/// The daily full backup: schemas and data of one consistent snapshot, with its exact binlog
/// coordinates, streamed in parallel (tables and key ranges of big tables) through the repository
/// pipeline. Each data chunk is plain SQL (multi-row INSERTs, one per line) that the stock client loads.
/// </summary>
public static class MySqlDumper
{
    public const string ChunkHeader =
        "SET NAMES utf8mb4;\nSET time_zone = '+00:00';\nSET foreign_key_checks = 0;\nSET unique_checks = 0;\nSET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';\n";

    public static async Task<DumpResult> RunAsync(RepositoryContext context, MySqlEndpoint endpoint, DumpOptions options,
        IProgress<DumpProgress>? progress, CancellationToken ct)
    {
        // The workers already keep the cores busy with one artifact each: zstd runs in each worker's
        // own thread instead of adding helper threads per artifact (less contention, less memory).
        var spare = Environment.ProcessorCount / options.Workers - 1;
        context = context with
        {
            Artifacts = context.ArtifactOptions with
            {
                CompressionThreads = Math.Max(0, spare),
                CompressionLevel = options.CompressionLevel ?? context.ArtifactOptions.CompressionLevel,
            },
        };
        await using var control = await MySqlConnections.OpenAsync(endpoint, MySqlConnections.AsStored, ct).ConfigureAwait(false);
        var facts = await ServerFacts.ReadAsync(control, ct).ConfigureAwait(false);
        var schemas = await SchemaReader.SelectSchemasAsync(control, options.Schemas, ct).ConfigureAwait(false);
        var maxPacket = long.TryParse(facts.Variable("max_allowed_packet"), out var packet) ? packet : 16 << 20;
        var statementLimit = (int)Math.Min(options.StatementBytes, Math.Max(64 << 10, maxPacket / 2));

        // Workers read rows over EcomDr's own client: raw text rows, rendered as SQL without decoding.
        var workers = new List<WireConnection>();
        try
        {
            for (var i = 0; i < options.Workers; i++)
            {
                var worker = await WireConnection.OpenAsync(endpoint, ct).ConfigureAwait(false);
                workers.Add(worker);
                await worker.ExecuteAsync("SET SESSION time_zone = '+00:00', net_write_timeout = 3600, net_read_timeout = 3600", ct).ConfigureAwait(false);
            }

            await using var writer = await BackupWriter.BeginAsync(context, DumpOptions.Kind, options.Labels, ct).ConfigureAwait(false);
            var snapshot = await SnapshotCoordinator.StartAsync(control, workers, facts.Flavor, ct).ConfigureAwait(false);
            if (snapshot.Method.StartsWith("consistent snapshot", StringComparison.Ordinal))
            {
                foreach (var extra in workers.Skip(1))
                {
                    await extra.DisposeAsync().ConfigureAwait(false);
                }

                workers.RemoveRange(1, workers.Count - 1);
            }

            RecordSource(writer, facts, endpoint, schemas, snapshot);

            // Schemas and chunk plans are read on the control connection: information_schema and SHOW
            // CREATE are not versioned by a snapshot anyway, and the key ranges are open-ended.
            var main = control;
            var tables = new List<TableInfo>();
            var stats = new JsonObject();
            foreach (var schema in schemas)
            {
                var schemaTables = await SchemaReader.TablesAsync(main, schema, ct).ConfigureAwait(false);
                tables.AddRange(schemaTables);
                var definition = await SchemaReader.DefinitionAsync(main, schema, schemaTables, ct).ConfigureAwait(false);
                var json = JsonSerializer.SerializeToUtf8Bytes(definition, ManifestCodec.Options);
                await writer.AddArtifactAsync($"schema/{ArtifactNames.Encode(schema)}.json", (s, t) => s.WriteAsync(json, t).AsTask(), ct).ConfigureAwait(false);
                var script = Encoding.UTF8.GetBytes(SchemaScripts.Tables(definition));
                await writer.AddArtifactAsync($"schema/{ArtifactNames.Encode(schema)}.tables.sql", (s, t) => s.WriteAsync(script, t).AsTask(), ct).ConfigureAwait(false);
                var objects = Encoding.UTF8.GetBytes(SchemaScripts.Objects(definition));
                await writer.AddArtifactAsync($"schema/{ArtifactNames.Encode(schema)}.objects.sql", (s, t) => s.WriteAsync(objects, t).AsTask(), ct).ConfigureAwait(false);
            }

            var outside = OutsideTables.Serialize(await OutsideTables.ReadAsync(main, schemas, ct).ConfigureAwait(false));
            await writer.AddArtifactAsync(OutsideTables.ArtifactName, (s, t) => s.WriteAsync(outside, t).AsTask(), ct).ConfigureAwait(false);

            if (options.IncludeUsers)
            {
                var users = Encoding.UTF8.GetBytes(string.Join(";\n", await SchemaReader.UsersAsync(main, ct).ConfigureAwait(false)) + ";\n");
                await writer.AddArtifactAsync("users.sql", (s, t) => s.WriteAsync(users, t).AsTask(), ct).ConfigureAwait(false);
            }

            var chunks = new List<Chunk>();
            foreach (var table in tables.OrderByDescending(t => t.EstimatedRows))
            {
                chunks.AddRange(await ChunkPlan.PlanAsync(main, table, options.ChunkRows, options.Workers, ct).ConfigureAwait(false));
            }

            var nonTransactional = tables.Where(t => !t.Engine.Equals("InnoDB", StringComparison.OrdinalIgnoreCase)).Select(t => $"{t.Schema}.{t.Name} ({t.Engine})").ToList();
            var warnings = snapshot.Warnings.ToList();
            if (nonTransactional.Count > 0)
            {
                warnings.Add($"Not transactional, so not covered by the snapshot if written during the backup: {string.Join(", ", nonTransactional)}.");
            }

            var digests = tables.ToDictionary(t => t, _ => new TableDigest());
            var totals = new Totals(tables.Sum(t => t.EstimatedRows));
            var queue = new ConcurrentQueue<Chunk>(chunks);
            await Task.WhenAll(workers.Select(worker => Task.Run(async () =>
            {
                while (queue.TryDequeue(out var chunk))
                {
                    await DumpChunkAsync(writer, worker, chunk, digests[chunk.Table], statementLimit, totals, progress, ct).ConfigureAwait(false);
                }
            }, ct))).ConfigureAwait(false);

            foreach (var table in tables)
            {
                stats[$"{table.Schema}.{table.Name}"] = new JsonObject
                {
                    ["rows"] = digests[table].Rows,
                    ["digest"] = digests[table].Value,
                    ["chunks"] = chunks.Count(c => c.Table == table),
                    ["engine"] = table.Engine,
                };
            }

            writer.Stats["tables"] = stats;
            writer.Stats["rows"] = totals.Rows;
            writer.Stats["plainBytes"] = totals.Bytes;
            writer.Stats["lockHeldSeconds"] = snapshot.LockHeld.TotalSeconds;
            writer.Stats["consistency"] = snapshot.Method;
            writer.Stats["warnings"] = new JsonArray(warnings.Select(w => (JsonNode)w).ToArray());
            var backup = await writer.CompleteAsync(ct).ConfigureAwait(false);
            return new DumpResult(backup, snapshot with { Warnings = warnings }, totals.Rows, totals.Bytes, tables.Count, chunks.Count);
        }
        finally
        {
            foreach (var worker in workers)
            {
                await worker.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static void RecordSource(BackupWriter writer, ServerFacts facts, MySqlEndpoint endpoint, IReadOnlyList<string> schemas, SnapshotPoint snapshot)
    {
        writer.Source["server"] = endpoint.Display;
        writer.Source["flavor"] = facts.Flavor.ToString();
        writer.Source["version"] = facts.VersionText;
        writer.Source["serverId"] = facts.Variable("server_id");
        writer.Source["binlogFile"] = snapshot.BinlogFile;
        writer.Source["binlogPosition"] = snapshot.BinlogPosition;
        writer.Source["gtidSet"] = snapshot.GtidSet;
        writer.Source["schemas"] = new JsonArray(schemas.Select(s => (JsonNode)s).ToArray());
    }

    private static async Task DumpChunkAsync(BackupWriter writer, WireConnection connection, Chunk chunk, TableDigest digest, int statementLimit,
        Totals totals, IProgress<DumpProgress>? progress, CancellationToken ct)
    {
        var table = chunk.Table;
        var prefix = Encoding.UTF8.GetBytes($"INSERT INTO {Identifiers.Quote(table.Name)} ({string.Join(",", table.StoredColumns.Select(c => Identifiers.Quote(c.Name)))}) VALUES ");
        var select = RowRenderer.Select(table, chunk.Where, chunk.OrderBy);
        var renderer = new RowRenderer(table);
        await writer.AddArtifactAsync(chunk.ArtifactName, async (stream, token) =>
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(ChunkHeader), token).ConfigureAwait(false);
            var statement = new ArrayBufferWriter<byte>(statementLimit + 4096);
            var row = new ArrayBufferWriter<byte>(4096);
            var result = await connection.QueryAsync(select, token).ConfigureAwait(false);
            long rows = 0;
            while (await result.ReadAsync(token).ConfigureAwait(false))
            {
                row.ResetWrittenCount();
                renderer.Render(result.Row.Span, row);
                digest.Add(row.WrittenSpan);
                if (statement.WrittenCount > 0 && statement.WrittenCount + row.WrittenCount + 2 > statementLimit)
                {
                    await FlushAsync(stream, statement, totals, token).ConfigureAwait(false);
                }

                statement.Write(statement.WrittenCount == 0 ? prefix : ","u8);
                statement.Write(row.WrittenSpan);
                rows++;
                if ((rows & 1023) == 0)
                {
                    var now = totals.Add(table, 1024, digest.Rows);
                    progress?.Report(now);
                }
            }

            if (statement.WrittenCount > 0)
            {
                await FlushAsync(stream, statement, totals, token).ConfigureAwait(false);
            }

            var done = totals.Add(table, rows & 1023, digest.Rows);
            progress?.Report(done);
        }, ct).ConfigureAwait(false);
    }

    private static async Task FlushAsync(Stream stream, ArrayBufferWriter<byte> statement, Totals totals, CancellationToken ct)
    {
        statement.Write(";\n"u8);
        await stream.WriteAsync(statement.WrittenMemory, ct).ConfigureAwait(false);
        totals.AddBytes(statement.WrittenCount);
        statement.ResetWrittenCount();
    }

    private sealed class Totals(long estimate)
    {
        private long _rows;
        private long _bytes;

        public long Rows => Interlocked.Read(ref _rows);

        public long Bytes => Interlocked.Read(ref _bytes);

        public DumpProgress Add(TableInfo table, long rows, long tableRows)
        {
            var total = Interlocked.Add(ref _rows, rows);
            return new DumpProgress($"{table.Schema}.{table.Name}", tableRows, table.EstimatedRows, total, Math.Max(estimate, total), Bytes);
        }

        public void AddBytes(long bytes) => Interlocked.Add(ref _bytes, bytes);
    }
}
