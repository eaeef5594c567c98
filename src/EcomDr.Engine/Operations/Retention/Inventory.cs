using System.Globalization;
using System.Net;
using System.Text;
using EcomDr.Engine.Config;
using EcomDr.Engine.Pipeline.IO;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Engine.Operations.Retention;

/// <summary>One backup in one store: its state there, its retention decision and its last verification.</summary>
public sealed record InventoryPlacement(string Store, BackupStatus Status, string Decision, string Reason, DateTimeOffset? ExpiresAt, VerificationRecord? Verified);

/// <summary>One backup across the stores of an environment (the plan's "inventory and labels").</summary>
public sealed record InventoryItem(
    string Environment,
    string Kind,
    string Id,
    DateTimeOffset Created,
    long Size,
    string Coordinates,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<InventoryPlacement> Placements)
{
    /// <summary>"primary, offsite", or "primary only".</summary>
    public string Where => Placements.Count == 1 ? $"{Placements[0].Store} only" : string.Join(", ", Placements.Select(p => p.Store));

    public string Verified => string.Join("; ", Placements.Select(p => $"{p.Store}: {(p.Verified is { } v ? v.ToString() : "never")}"));

    public string Retention => string.Join("; ", Placements.Select(p => $"{p.Store}: {p.Decision} ({p.Reason})"));

    /// <summary>The first time a store's policy lets it go, when it is kept for its age only.</summary>
    public DateTimeOffset? ExpiresAt => Placements.Where(p => p.ExpiresAt is not null).Select(p => p.ExpiresAt).Min();

    public override string ToString() => $"{Kind}/{Id} ({Where})";
}

/// <summary>What one store can restore: from the oldest full backup on the binlog chain to the newest shipped event.</summary>
public sealed record RecoverableWindow(string Environment, string Store, DateTimeOffset? Oldest, DateTimeOffset? Newest, string? BaseBackupId, string? Problem)
{
    public TimeSpan? Length => Oldest is { } o && Newest is { } n ? n - o : null;

    // Null for a store without MySQL backups at all (a file-only environment has no window).
    public static async Task<RecoverableWindow?> ReadAsync(RepositoryContext store, CancellationToken ct)
    {
        var (chain, fulls, bases) = await RecoveryWindow.LoadAsync(store, ct, CatalogDetail.Summary).ConfigureAwait(false);
        if (fulls.Count == 0 && chain.Segments.Count == 0)
        {
            return null;
        }

        if (bases.Count == 0)
        {
            return new RecoverableWindow(store.Environment, store.Store.Name, null, null, null,
                fulls.Count == 0 ? "no complete full backup" : BinlogChainReport.NoBase);
        }

        var newest = chain.Newest?.LastEventTime;
        return new RecoverableWindow(store.Environment, store.Store.Name, bases[0].Completed ?? bases[0].Created, newest, bases[0].Id, null);
    }

    public override string ToString() => Problem ?? $"{Store}: {Oldest:u} to {Newest:u}";
}

/// <summary>Every backup of an environment in every store, and each store's recoverable window.</summary>
public sealed record Inventory(string Environment, DateTimeOffset Now, IReadOnlyList<InventoryItem> Items, IReadOnlyList<RecoverableWindow> Windows)
{
    public static async Task<Inventory> BuildAsync(IReadOnlyList<RepositoryContext> stores, RetentionConfig policy, DateTimeOffset now, CancellationToken ct)
    {
        var placements = new Dictionary<(string Kind, string Id), (BackupInfo First, List<InventoryPlacement> Where)>();
        var windows = new List<RecoverableWindow>();
        foreach (var store in stores)
        {
            var catalog = await BackupCatalog.ListAsync(store, null, ct, CatalogDetail.Summary).ConfigureAwait(false);
            var holds = await BackupHolds.ListAsync(store, ct).ConfigureAwait(false);
            var verified = await VerificationRecords.ListAsync(store, ct).ConfigureAwait(false);
            var plan = RetentionPlanner.Plan(store.Environment, store.Store.Name, catalog, holds, policy.ForStore(store.Store.Name), now);
            foreach (var decision in plan.Decisions)
            {
                var key = (decision.Kind, decision.Id);
                if (!placements.TryGetValue(key, out var entry))
                {
                    placements[key] = entry = (decision.Backup, new List<InventoryPlacement>());
                }

                entry.Where.Add(new InventoryPlacement(store.Store.Name, decision.Backup.Status, decision.Decision, decision.Reason, decision.ExpiresAt,
                    verified.GetValueOrDefault(decision.Id)));
            }

            if (await RecoverableWindow.ReadAsync(store, ct).ConfigureAwait(false) is { } window)
            {
                windows.Add(window);
            }
        }

        var items = placements.Values
            .Select(p => new InventoryItem(p.First.Environment, p.First.Kind, p.First.Id, p.First.Created, p.First.Size, p.First.Coordinates,
                p.First.Labels, p.Where))
            .OrderBy(i => i.Created).ThenBy(i => i.Id, StringComparer.Ordinal).ToList();
        return new Inventory(stores.Count > 0 ? stores[0].Environment : "", now, items, windows);
    }

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"# Backup inventory: {Environment}\n\nAs of {Now.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z.\n\n## Recoverable window\n\n");
        sb.Append("| store | oldest point | newest point | length | from full backup |\n|---|---|---|---|---|\n");
        foreach (var w in Windows)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {Md(w.Store)} | {Time(w.Oldest)} | {Time(w.Newest)} | {(w.Length is { } l ? $"{l.TotalHours:0.#} h" : Md(w.Problem ?? ""))} | {Md(w.BaseBackupId ?? "")} |\n");
        }

        sb.Append("\n## Backups\n\n| kind | id | created (UTC) | size | where | verified | retention | expires | labels | coordinates |\n|---|---|---|---|---|---|---|---|---|---|\n");
        foreach (var i in Items)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"| {Md(i.Kind)} | {Md(i.Id)} | {Time(i.Created)} | {ByteSize.Format(i.Size)} | {Md(i.Where)} | {Md(i.Verified)} | {Md(i.Retention)} | {Time(i.ExpiresAt)} | {Md(Labels(i))} | {Md(i.Coordinates)} |\n");
        }

        return sb.ToString();
    }

    public string ToHtml()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Backup inventory: {H(Environment)}</title></head><body>\n<h1>Backup inventory: {H(Environment)}</h1>\n<p>As of {Now.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z.</p>\n");
        sb.Append("<h2>Recoverable window</h2>\n<table>\n<tr><th>store</th><th>oldest point</th><th>newest point</th><th>length</th><th>from full backup</th></tr>\n");
        foreach (var w in Windows)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"<tr><td>{H(w.Store)}</td><td>{Time(w.Oldest)}</td><td>{Time(w.Newest)}</td><td>{H(w.Length is { } l ? $"{l.TotalHours:0.#} h" : w.Problem ?? "")}</td><td>{H(w.BaseBackupId ?? "")}</td></tr>\n");
        }

        sb.Append("</table>\n<h2>Backups</h2>\n<table>\n<tr><th>kind</th><th>id</th><th>created (UTC)</th><th>size</th><th>where</th><th>verified</th><th>retention</th><th>expires</th><th>labels</th><th>coordinates</th></tr>\n");
        foreach (var i in Items)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"<tr><td>{H(i.Kind)}</td><td>{H(i.Id)}</td><td>{Time(i.Created)}</td><td>{ByteSize.Format(i.Size)}</td><td>{H(i.Where)}</td><td>{H(i.Verified)}</td><td>{H(i.Retention)}</td><td>{Time(i.ExpiresAt)}</td><td>{H(Labels(i))}</td><td>{H(i.Coordinates)}</td></tr>\n");
        }

        return sb.Append("</table>\n</body></html>\n").ToString();
    }

    private static string Labels(InventoryItem i) =>
        string.Join(", ", i.Labels.Where(l => l.Key is not "host" and not "toolVersion").Select(l => $"{l.Key}={l.Value}"));

    private static string Time(DateTimeOffset? t) => t is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : "";

    private static string Md(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static string H(string text) => WebUtility.HtmlEncode(text);
}
