using System.Globalization;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>One binlog file the server has, and whether a purge may take it.</summary>
public sealed record BinlogPurgeFile(string Server, string File, long Size, bool Purge, string Reason)
{
    public string Decision => Purge ? "Purge" : "Keep";
}

/// <summary>
/// Purges the server's binlogs only up to the oldest file that is not safe to lose: a file goes only
/// when every required store holds it whole (closed by its rotation, every byte shipped, from this
/// server) and its last event is older than the margin. PURGE BINARY LOGS TO stops there, so nothing
/// after a file that must stay is purged either, and the file the server writes never is.
/// </summary>
public static class BinlogPurge
{
    public static async Task<IReadOnlyList<BinlogPurgeFile>> PlanAsync(MySqlEndpoint source, IReadOnlyList<RepositoryContext> stores, TimeSpan margin,
        DateTimeOffset now, CancellationToken ct)
    {
        var identity = await SourceIdentity.ReadAsync(source, rotate: false, ct).ConfigureAwait(false);
        var chains = new List<(string Store, ILookup<string, BinlogSegment> ByFile)>();
        foreach (var store in stores)
        {
            var chain = await BinlogChain.LoadAsync(store, ct).ConfigureAwait(false);
            chains.Add((store.Store.Name, chain.Segments.Where(s => s.ServerId == identity.ServerId && (identity.ServerUuid.Length == 0 || s.ServerUuid == identity.ServerUuid))
                .ToLookup(s => s.File, StringComparer.Ordinal)));
        }

        var plan = new List<BinlogPurgeFile>();
        var stopped = (string?)null;
        for (var i = 0; i < identity.Files.Count; i++)
        {
            var file = identity.Files[i];
            var why = i == identity.Files.Count - 1 ? "the file the server is writing"
                : stopped is not null ? $"after {stopped}, which stays (a purge removes only the files before one)"
                : Unsafe(file, chains, margin, now);
            if (why is not null)
            {
                stopped ??= file.Name;
            }

            plan.Add(new BinlogPurgeFile(identity.Endpoint, file.Name, file.Size, why is null, why ?? $"shipped whole to {string.Join(" and ", chains.Select(c => c.Store))}, last event before the {margin.TotalHours:0.#} h margin"));
        }

        return plan;
    }

    /// <summary>
    /// Runs PURGE BINARY LOGS TO the first file that stays (nothing when the first one stays) and
    /// returns the files the plan let go that the server still has: it keeps a file that a connected
    /// replica reads or that its binlog checkpoint still needs (MariaDB), and the next run takes it.
    /// </summary>
    public static async Task<IReadOnlyList<string>> PurgeAsync(MySqlEndpoint source, IReadOnlyList<BinlogPurgeFile> plan, CancellationToken ct)
    {
        if (plan.Count == 0 || !plan[0].Purge)
        {
            return Array.Empty<string>();
        }

        var to = plan.First(f => !f.Purge);   // there is one: the file the server writes always stays
        await using (var c = await MySqlConnections.OpenAsync(source, ct).ConfigureAwait(false))
        {
            await Sql.ExecAsync(c, $"PURGE BINARY LOGS TO '{to.File.Replace("'", "''", StringComparison.Ordinal)}'", ct).ConfigureAwait(false);
        }

        var after = await SourceIdentity.ReadAsync(source, rotate: false, ct).ConfigureAwait(false);
        return plan.Where(f => f.Purge && after.Files.Any(a => a.Name == f.File)).Select(f => f.File).ToList();
    }

    private static string? Unsafe(BinlogFileInfo file, IReadOnlyList<(string Store, ILookup<string, BinlogSegment> ByFile)> chains, TimeSpan margin, DateTimeOffset now)
    {
        foreach (var (store, byFile) in chains)
        {
            var segments = byFile[file.Name].OrderBy(s => s.StartOffset).ToList();
            if (segments.Count == 0)
            {
                return $"not shipped to {store}";
            }

            var contiguous = segments[0].StartOffset == 0 && segments.Zip(segments.Skip(1)).All(p => p.First.EndOffset == p.Second.StartOffset);
            var last = segments[^1];
            if (!contiguous || last.NextFile is null || last.EndOffset != file.Size)
            {
                return $"partly shipped to {store} ({(contiguous ? last.EndOffset : 0).ToString("N0", CultureInfo.InvariantCulture)} of {file.Size.ToString("N0", CultureInfo.InvariantCulture)} bytes{(contiguous ? "" : ", with a hole")})";
            }

            var lastEvent = last.LastEventTime ?? last.Completed ?? now;
            if (lastEvent > now - margin)
            {
                return $"inside the {margin.TotalHours:0.#} h margin (last event {lastEvent:u})";
            }
        }

        return null;
    }
}
