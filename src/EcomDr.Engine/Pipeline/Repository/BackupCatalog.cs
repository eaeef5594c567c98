using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Storage;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>How much of each backup a listing holds.</summary>
public enum CatalogDetail
{
    /// <summary>The whole manifest of each backup: what a restore, copy or verification needs.</summary>
    Full,

    /// <summary>
    /// Labels and source facts only (<see cref="BackupInfo.Summarized"/>), taken from the catalog index
    /// where it stands for the listed manifest: what retention, the inventory and the window need.
    /// </summary>
    Summary,
}

/// <summary>
/// Lists the backups in a store from the store itself (the source of truth): a folder with a
/// verified manifest is Complete, one without is Incomplete, one whose manifest fails verification
/// is Invalid. Nothing but Complete is ever offered for restore. A summary listing holds a few hundred
/// bytes per backup, not its manifest, and reads only the manifests the catalog index does not stand for.
/// </summary>
public static class BackupCatalog
{
    public static async Task<IReadOnlyList<BackupInfo>> ListAsync(RepositoryContext context, string? kind, CancellationToken cancellationToken,
        CatalogDetail detail = CatalogDetail.Full)
    {
        var prefix = kind is null ? $"{context.Environment}/" : $"{context.Environment}/{kind}/";
        // Per backup only what describing it needs, not every object: a catalog can hold hundreds of thousands.
        var groups = new Dictionary<(string Kind, string Id), Listed>();
        var kinds = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var obj in context.Store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (RepositoryLayout.Parse(obj.Key) is { } parsed && parsed.Environment == context.Environment)
            {
                if (!groups.TryGetValue((parsed.Kind, parsed.Id), out var listed))
                {
                    // One string per kind, not per backup.
                    var groupKind = kinds.TryGetValue(parsed.Kind, out var held) ? held : kinds[parsed.Kind] = parsed.Kind;
                    groups[(groupKind, parsed.Id)] = listed = new Listed(groupKind, parsed.Id);
                }

                listed.Add(obj, parsed.Remainder == RepositoryLayout.ManifestName);
            }
        }

        if (detail == CatalogDetail.Summary)
        {
            await TakeIndexedAsync(context, groups, cancellationToken).ConfigureAwait(false);
        }

        // Manifests are read, verified and opened concurrently: a store is latency-bound (S3), a big catalog CPU-bound.
        var entries = groups.Values.ToArray();
        groups.Clear();
        groups.TrimExcess();
        var result = new BackupInfo[entries.Length];
        var toRead = new List<int>();
        for (var i = 0; i < entries.Length; i++)
        {
            if (entries[i].Indexed is { } indexed)
            {
                result[i] = indexed;
                entries[i] = null!;
            }
            else
            {
                toRead.Add(i);
            }
        }

        var labelSets = new SharedBytes();
        await Parallel.ForEachAsync(toRead,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(8, System.Environment.ProcessorCount * 2), CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var listed = entries[i];
                entries[i] = null!;
                var read = await DescribeAsync(context, listed, ct).ConfigureAwait(false);
                result[i] = detail == CatalogDetail.Summary ? read.Summarized(labelSets) : read;
            }).ConfigureAwait(false);

        Array.Sort(result, (a, b) => a.Created != b.Created ? a.Created.CompareTo(b.Created) : string.CompareOrdinal(a.Id, b.Id));
        return result;
    }

    // The index's entries for manifests listed unchanged; an index that fails part-way leaves the rest to be read.
    private static async Task TakeIndexedAsync(RepositoryContext context, Dictionary<(string Kind, string Id), Listed> groups, CancellationToken ct)
    {
        var index = await CatalogIndex.OpenAsync(context, ct).ConfigureAwait(false);
        try
        {
            foreach (var entry in index.Entries())
            {
                if (groups.TryGetValue((entry.Kind, entry.Id), out var listed) && listed.Manifest == entry.Manifest)
                {
                    listed.Indexed = entry.ToBackup(context, listed.Kind, listed.Id);
                }
            }
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidDataException or FormatException or InvalidOperationException)
        {
            // The entries taken so far stand; the rest are read from their manifests.
        }
    }

    /// <summary>One backup by id (any kind); only a Complete one unless <paramref name="allowUnusable"/>.</summary>
    public static async Task<BackupInfo> GetAsync(RepositoryContext context, string id, CancellationToken cancellationToken, bool allowUnusable = false)
    {
        var found = (await ListAsync(context, null, cancellationToken).ConfigureAwait(false)).Where(b => b.Id == id).ToList();
        if (found.Count == 0)
        {
            throw new EcomDrException(ErrorIds.BackupNotFound, FailureKind.ObjectNotFound,
                $"No backup '{id}' for environment '{context.Environment}' in {context.Store.Location}.", id);
        }

        var backup = found[0];
        if (!allowUnusable && backup.Status != BackupStatus.Complete)
        {
            throw new EcomDrException(backup.Status == BackupStatus.Incomplete ? ErrorIds.BackupIncomplete : ErrorIds.ManifestInvalid,
                FailureKind.InvalidData, $"Backup {id} is {backup.Status}: {backup.Problem}", id);
        }

        return backup;
    }

    private static async Task<BackupInfo> DescribeAsync(RepositoryContext context, Listed listed, CancellationToken cancellationToken)
    {
        var (groupKind, id) = (listed.Kind, listed.Id);
        var manifestKey = RepositoryLayout.ManifestKey(context.Environment, groupKind, id);
        if (listed.Manifest is null)
        {
            return new BackupInfo(id, groupKind, context.Environment, context.Store.Name, context.Store.Location, BackupStatus.Incomplete,
                listed.Oldest, null, listed.Size, listed.Count, "no manifest: the job did not finish", null);
        }

        try
        {
            var manifest = await ReadManifestAsync(context, manifestKey, cancellationToken).ConfigureAwait(false);
            if (manifest.Id != id || manifest.Kind != groupKind || manifest.Environment != context.Environment)
            {
                throw new EcomDrException(ErrorIds.ManifestInvalid, FailureKind.InvalidData,
                    $"Manifest {manifestKey} describes {manifest.Environment}/{manifest.Kind}/{manifest.Id}, not the folder it is in.", manifestKey);
            }

            return BackupInfo.From(manifest, context.Store.Name, context.Store.Location) with { ManifestStamp = listed.Manifest };
        }
        catch (EcomDrException ex) when (ex.Kind is FailureKind.InvalidData or FailureKind.PermissionDenied)
        {
            return new BackupInfo(id, groupKind, context.Environment, context.Store.Name, context.Store.Location, BackupStatus.Invalid,
                listed.Oldest, null, listed.Size, listed.Count, ex.Message, null);
        }
    }

    // One backup folder as listed: its object count, bytes, oldest object and manifest stamp.
    private sealed class Listed(string kind, string id)
    {
        public string Kind { get; } = kind;

        public string Id { get; } = id;

        public int Count { get; private set; }

        public long Size { get; private set; }

        public DateTimeOffset Oldest { get; private set; } = DateTimeOffset.MaxValue;

        public ObjectStamp? Manifest { get; private set; }

        public BackupInfo? Indexed { get; set; }

        public void Add(StoreObject obj, bool isManifest)
        {
            Count++;
            Size += obj.Size;
            Oldest = obj.Modified < Oldest ? obj.Modified : Oldest;
            Manifest = isManifest ? ObjectStamp.Of(obj) : Manifest;
        }
    }

    public static async Task<BackupManifest> ReadManifestAsync(RepositoryContext context, string manifestKey, CancellationToken cancellationToken)
    {
        var envelope = await context.Store.ReadAllAsync(manifestKey, cancellationToken).ConfigureAwait(false);
        return await ManifestCodec.DecodeAsync(envelope, context.Trust, context.KeyProviders,
            $"{context.Store.Location}{manifestKey}", cancellationToken).ConfigureAwait(false);
    }
}
