using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>A break in a chain: where shipped bytes stop and where the next segment starts.</summary>
public sealed record ChainBreak(string After, string Next, string Reason)
{
    public override string ToString() => $"after {After}, next {Next}: {Reason}";
}

/// <summary>
/// The shipped binlog segments of an environment, by chain and sequence: the checkpoint a shipper
/// continues from, and the proof that a range of binlog is there without a missing byte.
/// </summary>
public sealed class BinlogChain
{
    private BinlogChain(IReadOnlyList<BinlogSegment> segments) => Segments = segments;

    /// <summary>Complete segments, oldest chain first, in sequence order within a chain.</summary>
    public IReadOnlyList<BinlogSegment> Segments { get; }

    /// <summary>The segment shipping continues after: the highest sequence of the chain written to last.</summary>
    public BinlogSegment? Newest => Segments.Count == 0 ? null : Current.LastOrDefault();

    /// <summary>The segments of the chain written to last.</summary>
    public IReadOnlyList<BinlogSegment> Current
    {
        get
        {
            if (Segments.Count == 0)
            {
                return Segments;
            }

            var chain = Segments.MaxBy(s => s.Completed)!.ChainId;
            return Segments.Where(s => s.ChainId == chain).ToList();
        }
    }

    /// <summary>
    /// The complete full backups a point-in-time recovery can start from on the current chain (their
    /// coordinates lie in it), oldest first. The oldest one opens the recoverable window.
    /// </summary>
    public IReadOnlyList<BackupInfo> BasesOf(IEnumerable<BackupInfo> fullBackups)
    {
        var current = Current;
        return fullBackups.Where(b => b.Status == BackupStatus.Complete)
            .Select(b => (Backup: b, At: CoordinateOf(b)))
            .Where(x => x.At is { } at && current.Any(s => s.File == at.File && s.StartOffset <= at.Position && at.Position <= s.EndOffset))
            .OrderBy(x => x.At!.Value)
            .Select(x => x.Backup)
            .ToList();
    }

    /// <summary>Where a full backup's snapshot sits in the binlog; null when its manifest records none.</summary>
    public static BinlogCoordinate? CoordinateOf(BackupInfo backup) =>
        backup.Source is var source && source["binlogFile"] is { } file && source["binlogPosition"] is { } position
            ? new BinlogCoordinate((string)file!, (long)position!)
            : null;

    /// <summary>The chain as shipped; <see cref="CatalogDetail.Summary"/> for callers that never read a segment's bytes.</summary>
    public static async Task<BinlogChain> LoadAsync(RepositoryContext context, CancellationToken ct, CatalogDetail detail = CatalogDetail.Full)
    {
        var backups = await BackupCatalog.ListAsync(context, BinlogSegment.Kind, ct, detail).ConfigureAwait(false);
        var segments = backups.Where(b => b.Status == BackupStatus.Complete).Select(BinlogSegment.FromBackup).ToList();
        var chainStarts = segments.GroupBy(s => s.ChainId).ToDictionary(g => g.Key, g => g.Min(s => s.Completed));
        return new BinlogChain(segments.OrderBy(s => chainStarts[s.ChainId]).ThenBy(s => s.ChainId, StringComparer.Ordinal).ThenBy(s => s.Sequence).ToList());
    }

    /// <summary>
    /// The segments of the current chain that cover the binlog from <paramref name="file"/>:<paramref name="position"/>
    /// on, and every break among them (a missing sequence number or bytes that do not join up).
    /// </summary>
    public (IReadOnlyList<BinlogSegment> Covering, IReadOnlyList<ChainBreak> Breaks) From(string? file, long position)
    {
        var chain = Current.ToList();
        var first = file is null ? 0 : chain.FindIndex(s => s.File == file && s.StartOffset <= position && position <= s.EndOffset);
        if (first < 0)
        {
            var oldest = chain.Count > 0 ? chain[0].ToString() : "(no segments)";
            return (Array.Empty<BinlogSegment>(), new[] { new ChainBreak("(nothing shipped)", oldest, $"no shipped segment of the current chain holds {file}:{position}") });
        }

        var covering = chain.Skip(first).ToList();
        var breaks = new List<ChainBreak>();
        for (var i = 1; i < covering.Count; i++)
        {
            var (prev, next) = (covering[i - 1], covering[i]);
            var expected = prev.Next;
            var startsAt = new BinlogCoordinate(next.File, next.StartOffset == 0 ? 4 : next.StartOffset);
            if (next.Sequence != prev.Sequence + 1)
            {
                breaks.Add(new ChainBreak(prev.ToString(), next.ToString(), $"segments {prev.Sequence + 1} to {next.Sequence - 1} are missing"));
            }
            else if (expected != startsAt)
            {
                breaks.Add(new ChainBreak(prev.ToString(), next.ToString(), $"{expected} was expected next"));
            }
        }

        return (covering, breaks);
    }
}
