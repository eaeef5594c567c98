using EcomDr.Engine.Repository;

namespace EcomDr.Engine.MySql.Binlog;

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
    public bool Passed => Status == "Passed";

    public static BinlogChainReport Test(BinlogChain chain, RepositoryContext context, BackupInfo? from)
    {
        string? file = null;
        long position = 0;
        var fromText = "the start of the current chain";
        if (from is not null)
        {
            file = (string?)from.Manifest?.Source["binlogFile"];
            position = (long?)from.Manifest?.Source["binlogPosition"] ?? 0;
            fromText = $"{from.Id} at {from.Coordinates}";
            if (file is null)
            {
                return new BinlogChainReport(context.Environment, context.Store.Name, "Failed", fromText, 0, "", null, "",
                    new[] { new ChainBreak(from.Id, "", "the backup records no binlog coordinates") }, from.Id);
            }
        }

        var (covering, breaks) = chain.From(file, position);
        var newest = covering.Count > 0 ? covering[^1] : null;
        var status = covering.Count > 0 && breaks.Count == 0 ? "Passed" : "Failed";
        return new BinlogChainReport(context.Environment, context.Store.Name, status, fromText, covering.Count,
            newest is null ? "" : $"{newest.File}:{newest.EndOffset}", covering.LastOrDefault(s => s.LastEventTime is not null)?.LastEventTime,
            covering.LastOrDefault(s => s.LastGtid.Length > 0)?.LastGtid ?? "", breaks, from?.Id);
    }
}

/// <summary>
/// How much data a disaster now would lose, as far as the repository knows: the time since the
/// newest shipped event, or zero when the server was asked and has nothing unshipped.
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
    double ObjectiveSeconds)
{
    public bool WithinObjective => ExposureSeconds <= ObjectiveSeconds;

    public static RpoStatus Compute(BinlogChain chain, RepositoryContext context, DateTimeOffset now, TimeSpan objective, (string File, long Position)? server)
    {
        var newest = chain.Newest;
        var newestEvent = chain.Current.LastOrDefault(s => s.LastEventTime is not null)?.LastEventTime;
        var caughtUp = newest is not null && server is { } s && (newest.File, newest.EndOffset) == (s.File, s.Position);
        var exposure = caughtUp ? 0 : newestEvent is { } t ? Math.Max(0, (now - t).TotalSeconds) : double.PositiveInfinity;
        return new RpoStatus(context.Environment, context.Store.Name, newest is null ? "" : $"{newest.File}:{newest.EndOffset}", newestEvent, newest?.Completed,
            server is { } p ? $"{p.File}:{p.Position}" : "", server is not null, caughtUp, exposure, objective.TotalSeconds);
    }
}
