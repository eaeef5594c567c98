using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>
/// Test-BinlogChain's answer: whether the shipped binlog runs without a missing byte from a point
/// (a full backup's coordinates) to the newest segment, and how recent that newest event is.
/// </summary>
public sealed record BinlogChainReport(
    string Environment,
    string Store,
    string Status,
    string From,
    int Segments,
    string ShippedTo,
    DateTimeOffset? NewestEventTime,
    string LastGtid,
    IReadOnlyList<ChainBreak> Breaks,
    string? BackupId)
{
    public const string NoBase = "no complete full backup lies on the current binlog chain: point-in-time recovery has nothing to start from; take one with Invoke-MySqlFullBackup";

    public bool Passed => Status == "Passed";

    /// <summary>
    /// From <paramref name="from"/>, or else from the oldest full backup on the current chain
    /// (<paramref name="bases"/>): a chain no complete full backup lies on restores nothing, and fails.
    /// </summary>
    public static BinlogChainReport Test(BinlogChain chain, RepositoryContext context, BackupInfo? from, IReadOnlyList<BackupInfo> bases)
    {
        if (from is null && bases.Count == 0)
        {
            var first = chain.Current.Count > 0 ? chain.Current[0].ToString() : "(no segments)";
            return new BinlogChainReport(context.Environment, context.Store.Name, "Failed", "no base backup", 0, "", null, "",
                new[] { new ChainBreak("(no base backup)", first, NoBase) }, null);
        }

        from ??= bases[0];
        var fromText = $"{from.Id} at {from.Coordinates}";
        if (BinlogChain.CoordinateOf(from) is not { } at)
        {
            return new BinlogChainReport(context.Environment, context.Store.Name, "Failed", fromText, 0, "", null, "",
                new[] { new ChainBreak(from.Id, "", "the backup records no binlog coordinates") }, from.Id);
        }

        var (file, position) = at;
        var (covering, breaks) = chain.From(file, position);
        var newest = covering.Count > 0 ? covering[^1] : null;
        var status = covering.Count > 0 && breaks.Count == 0 ? "Passed" : "Failed";
        return new BinlogChainReport(context.Environment, context.Store.Name, status, fromText, covering.Count,
            newest is null ? "" : $"{newest.File}:{newest.EndOffset}", covering.LastOrDefault(s => s.LastEventTime is not null)?.LastEventTime,
            covering.LastOrDefault(s => s.LastGtid.Length > 0)?.LastGtid ?? "", breaks, from.Id);
    }
}

/// <summary>
/// How much data a disaster now would lose. With the server checked: zero when every transaction it
/// holds was shipped (its GTID state is within the shipped one, or its binlog past the shipped end holds
/// no committed transaction), else the age of the oldest unshipped transaction. Without: the time since
/// the newest shipped event, as far as the repository knows.
/// </summary>
public sealed record RpoStatus(
    string Environment,
    string Store,
    string ShippedTo,
    DateTimeOffset? NewestShippedEvent,
    DateTimeOffset? LastShipped,
    string ServerPosition,
    bool ServerChecked,
    bool CaughtUp,
    double ExposureSeconds,
    double ObjectiveSeconds,
    string ShippedGtids = "",
    string ServerGtids = "",
    DateTimeOffset? OldestUnshipped = null,
    string BaseBackupId = "",
    string? Problem = null)
{
    /// <summary>Within the objective, and restorable at all: with no base backup a disaster now loses everything.</summary>
    public bool WithinObjective => ExposureSeconds <= ObjectiveSeconds;

    /// <summary>The shipped GTID state: the last GTID of each MariaDB domain, or each MySQL server UUID's 1-N.</summary>
    public static string ShippedGtidState(BinlogChain chain)
    {
        var last = chain.Current.Select(s => s.LastGtid).Where(g => g.Length > 0).ToList();
        var maria = last.Select(Pitr.GtidSets.MariaDb).OfType<(uint Domain, uint Server, ulong Sequence)>()
            .GroupBy(g => g.Domain).Select(g => g.MaxBy(x => x.Sequence)).Select(g => $"{g.Domain}-{g.Server}-{g.Sequence}");
        var mysql = last.Select(Pitr.GtidSets.MySql).OfType<(string Uuid, string Tag, ulong Number)>()
            .GroupBy(g => g.Uuid, StringComparer.OrdinalIgnoreCase).Select(g => $"{g.Key}:1-{g.Max(x => x.Number)}");
        return string.Join(",", maria.Concat(mysql));
    }

    public static RpoStatus Compute(BinlogChain chain, RepositoryContext context, DateTimeOffset now, TimeSpan objective, ServerBinlogState? server,
        IReadOnlyList<BackupInfo> bases)
    {
        var newest = chain.Newest;
        var newestEvent = chain.Current.LastOrDefault(s => s.LastEventTime is not null)?.LastEventTime;
        var caughtUp = newest is not null && server is { OldestUnshipped: null };
        var exposure = bases.Count == 0 ? double.PositiveInfinity
            : caughtUp ? 0
            : server?.OldestUnshipped is { } oldest ? Math.Max(0, (now - oldest).TotalSeconds)
            : newestEvent is { } t ? Math.Max(0, (now - t).TotalSeconds) : double.PositiveInfinity;
        return new RpoStatus(context.Environment, context.Store.Name, newest is null ? "" : $"{newest.File}:{newest.EndOffset}", newestEvent, newest?.Completed,
            server is { } p ? $"{p.File}:{p.Position}" : "", server is not null, caughtUp, exposure, objective.TotalSeconds, ShippedGtidState(chain),
            server?.GtidState ?? "", server?.OldestUnshipped, bases.Count > 0 ? bases[^1].Id : "",
            bases.Count == 0 ? "no base backup: " + BinlogChainReport.NoBase : null);
    }
}
