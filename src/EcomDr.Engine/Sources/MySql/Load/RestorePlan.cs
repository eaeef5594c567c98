using System.Text.Json;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Dump;

namespace EcomDr.Engine.Sources.MySql.Load;

/// <summary>
/// Everything a restore will do, worked out and validated before anything is changed: which
/// schemas go where, which tables and chunks, which objects.
/// </summary>
public sealed class RestorePlan
{
    private RestorePlan(BackupInfo backup, Dictionary<string, string> map, List<SchemaDefinition> schemas, List<(string Schema, string Table)> tables,
        List<ArtifactEntry> chunks, bool partial)
    {
        Backup = backup;
        SchemaMap = map;
        Schemas = schemas;
        Tables = tables;
        Chunks = chunks;
        Partial = partial;
    }

    public BackupInfo Backup { get; }

    /// <summary>Source schema to target schema.</summary>
    public IReadOnlyDictionary<string, string> SchemaMap { get; }

    public IReadOnlyList<SchemaDefinition> Schemas { get; }

    public IReadOnlyList<(string Schema, string Table)> Tables { get; }

    public IReadOnlyList<ArtifactEntry> Chunks { get; }

    /// <summary>The structure of the tables outside the backup's schemas at its point; null when the backup does not record it.</summary>
    public IReadOnlyList<OutsideTable>? OutsideTables { get; private init; }

    /// <summary>Only some tables: views, routines and events are left alone, triggers of those tables restored.</summary>
    public bool Partial { get; }

    public string Describe() =>
        $"{Tables.Count} table(s), {Chunks.Count} chunk(s) of backup {Backup.Id} into " +
        string.Join(", ", SchemaMap.Select(m => m.Key == m.Value ? $"`{m.Value}`" : $"`{m.Value}` (from `{m.Key}`)"));

    public static async Task<RestorePlan> CreateAsync(RepositoryContext context, BackupInfo backup, RestoreOptions options, CancellationToken ct)
    {
        if (backup.Status != BackupStatus.Complete || backup.Manifest is null)
        {
            throw new EcomDrException(ErrorIds.BackupIncomplete, FailureKind.InvalidData, $"Backup {backup.Id} is {backup.Status}; only complete backups are restored.", backup.Id);
        }

        if (backup.Kind != DumpOptions.Kind)
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, $"Backup {backup.Id} is a '{backup.Kind}' backup, not a MySQL full backup.", backup.Id);
        }

        var manifest = backup.Manifest;
        var sourceSchemas = manifest.Artifacts.Where(a => a.Name.StartsWith("schema/", StringComparison.Ordinal) && a.Name.EndsWith(".json", StringComparison.Ordinal))
            .Select(a => ArtifactNames.Decode(a.Name["schema/".Length..^".json".Length])).ToList();
        var map = sourceSchemas.ToDictionary(s => s, s => s, StringComparer.Ordinal);
        if (options.TargetSchema is { } target)
        {
            if (sourceSchemas.Count != 1)
            {
                throw Invalid($"Backup {backup.Id} holds {sourceSchemas.Count} schemas ({string.Join(", ", sourceSchemas)}); use -SchemaMap to say where each goes.", target);
            }

            map[sourceSchemas[0]] = target;
        }

        foreach (var (source, destination) in options.SchemaMap ?? new Dictionary<string, string>())
        {
            if (!map.ContainsKey(source))
            {
                throw Invalid($"-SchemaMap names '{source}', which backup {backup.Id} does not hold (it holds: {string.Join(", ", sourceSchemas)}).", source);
            }

            map[source] = destination;
        }

        foreach (var name in map.Values)
        {
            if (name.Length is 0 or > 64 || name.EndsWith(' ') || name.Contains('\0'))
            {
                throw Invalid($"'{name}' is not a usable schema name: 1 to 64 characters, not ending with a space.", name);
            }
        }

        if (map.Values.Distinct(StringComparer.OrdinalIgnoreCase).Count() != map.Count)
        {
            throw Invalid("Two schemas of the backup would be restored into the same target schema.", string.Join(", ", map.Values));
        }

        var definitions = new List<SchemaDefinition>();
        foreach (var schema in sourceSchemas)
        {
            var artifact = manifest.Artifacts.Single(a => a.Name == $"schema/{ArtifactNames.Encode(schema)}.json");
            definitions.Add(JsonSerializer.Deserialize<SchemaDefinition>(await ReadWholeAsync(context, backup, artifact, ct).ConfigureAwait(false), ManifestCodec.Options)!);
        }

        // Backups taken before EcomDr recorded them have none: replay then reads such a structure on the target.
        var outside = manifest.Artifacts.FirstOrDefault(a => a.Name == Dump.OutsideTables.ArtifactName) is { } recorded
            ? Dump.OutsideTables.Deserialize(await ReadWholeAsync(context, backup, recorded, ct).ConfigureAwait(false))
            : null;

        var allTables = definitions.SelectMany(d => d.Tables.Select(t => (d.Schema, t.Name))).ToList();
        var selected = allTables;
        if (options.Tables is { Count: > 0 } wanted)
        {
            selected = new List<(string, string)>();
            foreach (var name in wanted)
            {
                var matches = allTables.Where(t => name.Contains('.') ? $"{t.Schema}.{t.Name}" == name : t.Name == name).ToList();
                if (matches.Count == 0)
                {
                    throw new EcomDrException(ErrorIds.TableNotFound, FailureKind.ObjectNotFound, $"Backup {backup.Id} has no table '{name}'.", name);
                }

                selected.AddRange(matches.Where(m => !selected.Contains(m)));
            }
        }

        var prefixes = selected.Select(t => $"data/{ArtifactNames.Encode(t.Schema)}/{ArtifactNames.Encode(t.Name)}.").ToHashSet(StringComparer.Ordinal);
        var chunks = manifest.Artifacts.Where(a => a.Name.StartsWith("data/", StringComparison.Ordinal) && a.Name.EndsWith(".sql", StringComparison.Ordinal)
                && prefixes.Contains(a.Name[..(a.Name[..^4].LastIndexOf('.') + 1)])) // an encoded name holds no '.': the last one ends it
            .OrderByDescending(a => a.PlainSize).ToList();
        return new RestorePlan(backup, map, definitions, selected, chunks, options.Tables is { Count: > 0 }) { OutsideTables = outside };
    }

    /// <summary>A small artifact (a schema's definition), read whole.</summary>
    private static async Task<byte[]> ReadWholeAsync(RepositoryContext context, BackupInfo backup, ArtifactEntry artifact, CancellationToken ct)
    {
        await using var stream = await ArtifactReader.OpenAsync(context.Store, backup.Prefix + artifact.Path, artifact, context.KeyProviders, ct).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, ct).ConfigureAwait(false);
        return buffer.ToArray();
    }

    private static EcomDrException Invalid(string message, object target) => new(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, message, target);
}
