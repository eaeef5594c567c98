using System.Globalization;
using EcomDr.Engine.Config;
using EcomDr.Engine.Pipeline.IO;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Engine.Operations.Completion;

/// <summary>
/// What Tab offers for EcomDr's parameters, from the configuration and the repository itself.
/// Items come unfiltered; the caller matches them against the word typed.
/// </summary>
public static class RepositoryCompletions
{
    /// <summary>The kinds EcomDr writes; kinds found in the repository are offered too.</summary>
    public static IReadOnlyList<string> KnownKinds => BackupKinds.Known;

    public static IReadOnlyList<CompletionItem> Environments(EcomDrConfig config) =>
        config.Environments.Values.OrderBy(e => e.Name != config.DefaultEnvironment).ThenBy(e => e.Name, StringComparer.Ordinal)
            .Select(e => new CompletionItem(e.Name, e.Name,
                $"{(e.Name == config.DefaultEnvironment ? "default environment, " : "")}stores: {string.Join(", ", StoreOrder(e.Repositories.Keys))}"))
            .ToList();

    public static IReadOnlyList<CompletionItem> Stores(EcomDrConfig config, string? environment) =>
        StoreOrder(config.GetEnvironment(environment).Repositories.Keys)
            .Select(name => config.GetEnvironment(environment).Repositories[name])
            .Select(r => new CompletionItem(r.Name, r.Name, $"{r.Type}: {LocationOf(r)}"))
            .ToList();

    /// <summary>Complete backups, newest first, optionally of the given kinds only.</summary>
    public static async Task<IReadOnlyList<CompletionItem>> BackupsAsync(RepositoryContext context, IReadOnlyCollection<string>? kinds, CancellationToken ct)
    {
        var backups = await BackupCatalog.ListAsync(context, kinds is { Count: 1 } ? kinds.First() : null, ct, CatalogDetail.Summary).ConfigureAwait(false);
        return backups.Where(b => b.Status == BackupStatus.Complete && (kinds is null || kinds.Contains(b.Kind, StringComparer.OrdinalIgnoreCase)))
            .OrderByDescending(b => b.Created).ThenByDescending(b => b.Id, StringComparer.Ordinal)
            .Select(b => new CompletionItem(b.Id, b.Id, DescribeBackup(b)))
            .ToList();
    }

    /// <summary>The known kinds and those in the repository, the ones holding backups first.</summary>
    public static async Task<IReadOnlyList<CompletionItem>> KindsAsync(RepositoryContext context, CancellationToken ct)
    {
        var counts = (await BackupCatalog.ListAsync(context, null, ct, CatalogDetail.Summary).ConfigureAwait(false))
            .Where(b => b.Status == BackupStatus.Complete).GroupBy(b => b.Kind).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return KnownKinds.Union(counts.Keys, StringComparer.Ordinal)
            .OrderBy(k => counts.ContainsKey(k) ? 0 : 1).ThenBy(k => k, StringComparer.Ordinal)
            .Select(k => new CompletionItem(k, k, counts.TryGetValue(k, out var n) ? $"{n} complete backup(s)" : "no backup yet"))
            .ToList();
    }

    /// <summary>The binlog files that have shipped segments, newest first.</summary>
    public static async Task<IReadOnlyList<CompletionItem>> BinlogFilesAsync(RepositoryContext context, CancellationToken ct)
    {
        var chain = await BinlogChain.LoadAsync(context, ct, CatalogDetail.Summary).ConfigureAwait(false);
        return chain.Segments.GroupBy(s => (s.ChainId, s.File))
            .Select(g => (g.Key.File, Segments: g.ToList(), Completed: g.Max(s => s.Completed)))
            .OrderByDescending(f => f.Completed).ThenByDescending(f => f.File, StringComparer.Ordinal)
            .DistinctBy(f => f.File)
            .Select(f => new CompletionItem(f.File, f.File, DescribeFile(f.Segments)))
            .ToList();
    }

    private static string DescribeBackup(BackupInfo backup)
    {
        var parts = new List<string> { backup.Kind, backup.Created.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture), ByteSize.Format(backup.Size) };
        if (backup.Coordinates.Length > 0)
        {
            parts.Add(backup.Coordinates);
        }

        return string.Join("  ", parts);
    }

    private static string DescribeFile(IReadOnlyList<BinlogSegment> segments)
    {
        var last = segments.MaxBy(s => s.EndOffset)!;
        var open = segments.Any(s => s.Partial) && segments.All(s => s.NextFile is null) ? ", still being written" : "";
        var until = last.LastEventTime is { } t ? $", events until {t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)}" : "";
        return $"{segments.Count} segment(s), {ByteSize.Format(last.EndOffset)}{until}{open}";
    }

    private static IEnumerable<string> StoreOrder(IEnumerable<string> names) =>
        names.OrderBy(n => n != "primary").ThenBy(n => n, StringComparer.Ordinal);

    private static string LocationOf(RepositoryConfig repository) =>
        repository.S3 is { } s3 ? $"s3://{s3.Bucket}/{s3.Prefix}".TrimEnd('/') : repository.Path ?? "";
}
