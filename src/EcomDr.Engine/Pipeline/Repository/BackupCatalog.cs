using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// Lists the backups in a store from the store itself (the source of truth): a folder with a
/// verified manifest is Complete, one without is Incomplete, one whose manifest fails verification
/// is Invalid. Nothing but Complete is ever offered for restore.
/// </summary>
public static class BackupCatalog
{
    public static async Task<IReadOnlyList<BackupInfo>> ListAsync(RepositoryContext context, string? kind, CancellationToken cancellationToken)
    {
        var prefix = kind is null ? $"{context.Environment}/" : $"{context.Environment}/{kind}/";
        var groups = new SortedDictionary<(string Kind, string Id), List<Storage.StoreObject>>();
        await foreach (var obj in context.Store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (RepositoryLayout.Parse(obj.Key) is { } parsed && parsed.Environment == context.Environment)
            {
                var group = (parsed.Kind, parsed.Id);
                if (!groups.TryGetValue(group, out var list))
                {
                    groups[group] = list = new List<Storage.StoreObject>();
                }

                list.Add(obj);
            }
        }

        // Manifests are read, verified and opened concurrently: a store is latency-bound (S3), a big catalog CPU-bound.
        var entries = groups.ToArray();
        var result = new BackupInfo[entries.Length];
        await Parallel.ForEachAsync(Enumerable.Range(0, entries.Length),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(8, System.Environment.ProcessorCount * 2), CancellationToken = cancellationToken },
            async (i, ct) => result[i] = await DescribeAsync(context, entries[i].Key.Kind, entries[i].Key.Id, entries[i].Value, ct).ConfigureAwait(false))
            .ConfigureAwait(false);

        return result.OrderBy(b => b.Created).ThenBy(b => b.Id, StringComparer.Ordinal).ToList();
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

    private static async Task<BackupInfo> DescribeAsync(RepositoryContext context, string groupKind, string id, List<Storage.StoreObject> objects, CancellationToken cancellationToken)
    {
        var manifestKey = RepositoryLayout.ManifestKey(context.Environment, groupKind, id);
        var size = objects.Sum(o => o.Size);
        var created = objects.Min(o => o.Modified);
        if (!objects.Any(o => o.Key == manifestKey))
        {
            return new BackupInfo(id, groupKind, context.Environment, context.Store.Name, context.Store.Location, BackupStatus.Incomplete,
                created, null, size, objects.Count, "", "no manifest: the job did not finish", null);
        }

        try
        {
            var manifest = await ReadManifestAsync(context, manifestKey, cancellationToken).ConfigureAwait(false);
            if (manifest.Id != id || manifest.Kind != groupKind || manifest.Environment != context.Environment)
            {
                throw new EcomDrException(ErrorIds.ManifestInvalid, FailureKind.InvalidData,
                    $"Manifest {manifestKey} describes {manifest.Environment}/{manifest.Kind}/{manifest.Id}, not the folder it is in.", manifestKey);
            }

            return BackupInfo.From(manifest, context.Store.Name, context.Store.Location);
        }
        catch (EcomDrException ex) when (ex.Kind is FailureKind.InvalidData or FailureKind.PermissionDenied)
        {
            return new BackupInfo(id, groupKind, context.Environment, context.Store.Name, context.Store.Location, BackupStatus.Invalid,
                created, null, size, objects.Count, "", ex.Message, null);
        }
    }

    public static async Task<BackupManifest> ReadManifestAsync(RepositoryContext context, string manifestKey, CancellationToken cancellationToken)
    {
        await using var stream = await context.Store.OpenReadAsync(manifestKey, cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return await ManifestCodec.DecodeAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.Trust, context.KeyProviders,
            $"{context.Store.Location}{manifestKey}", cancellationToken).ConfigureAwait(false);
    }
}
