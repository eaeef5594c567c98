using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>How precisely the binlog records when a transaction committed (docs/pitr.md, "Stop points").</summary>
internal enum CommitPrecision
{
    /// <summary>The recorded time is the commit itself (MySQL 8's immediate_commit_timestamp).</summary>
    Exact,

    /// <summary>The committing statement's start, with microseconds (Q_HRNOW/Q_MICROSECONDS): it committed within the second after.</summary>
    Microsecond,

    /// <summary>The second in which the committing statement started (MariaDB, MySQL 5.7): it committed in that second or later.</summary>
    Second,
}

/// <summary>How a transaction ends in the binlog.</summary>
internal enum TransactionEnd
{
    /// <summary>Its terminating event is there (XID, COMMIT, ROLLBACK, XA_PREPARE, or the one statement of a standalone group).</summary>
    Committed,

    /// <summary>A new transaction or file began before it ended: the server never committed it (a crash while writing).</summary>
    Abandoned,

    /// <summary>The shipped binlog ends inside it.</summary>
    CutOff,

    /// <summary>Replay cannot read it (<see cref="BinlogTransaction.Unreadable"/> says why): it may stop before it, not go past it.</summary>
    Unreadable,
}

/// <summary>
/// One transaction (event group) read whole from the binlog before replay decides anything about it:
/// its GTID, where it starts and ends, its commit time, and its events (<see cref="EventBuffer"/>).
/// The commit time is the GTID event's immediate_commit_timestamp on MySQL 8, else the timestamp of
/// the event that commits it (XID, COMMIT, or the DDL statement itself, with its microseconds when the
/// statement records them).
/// </summary>
internal sealed class BinlogTransaction : IAsyncDisposable
{
    public BinlogTransaction(string file, long position, GtidInfo? gtid, bool mariaDb, ReadOnlyMemory<byte> formatDescription, long memoryLimit)
    {
        IsMariaDb = mariaDb;
        StartFile = EndFile = file;
        StartPosition = EndPosition = position;
        Gtid = gtid;
        FormatDescription = formatDescription;
        Events = new EventBuffer(memoryLimit);
        CommitTime = gtid?.CommitTime;
        CommitPrecision = CommitTime is null ? CommitPrecision.Second : CommitPrecision.Exact;
    }

    /// <summary>Null when the source logged no GTID for it (binlogs without GTIDs, MySQL's anonymous ones).</summary>
    public GtidInfo? Gtid { get; }

    public string? GtidText => Gtid is { Anonymous: false } g ? g.Text : null;

    /// <summary>Written by MariaDB (its GTIDs are domain-server-sequence, set in three session variables).</summary>
    public bool IsMariaDb { get; }

    public string StartFile { get; }

    public long StartPosition { get; }

    public string EndFile { get; set; }

    public long EndPosition { get; set; }

    /// <summary>When it committed, as the binlog records it; <see cref="CommitPrecision"/> says how precisely.</summary>
    public DateTimeOffset? CommitTime { get; set; }

    public CommitPrecision CommitPrecision { get; set; }

    /// <summary>When the segment holding its last event was stored: it had committed by then (null when not read from the archive).</summary>
    public DateTimeOffset? ShippedBy { get; set; }

    public TransactionEnd End { get; set; } = TransactionEnd.CutOff;

    /// <summary>A single statement with no COMMIT of its own (DDL, MySQL's XA COMMIT/ROLLBACK).</summary>
    public bool Standalone { get; set; }

    /// <summary>Whether a BEGIN (or XA START, or MySQL's CREATE TABLE … START TRANSACTION) opened it.</summary>
    public bool Opened { get; set; }

    /// <summary>Whether it ends with ROLLBACK (changes to non-transactional tables stay; MySQL and MariaDB log such a group).</summary>
    public bool EndsWithRollback { get; set; }

    /// <summary>The XA_PREPARE event that ends an XA transaction's first part, with its XID.</summary>
    public string? PreparedXid { get; set; }

    /// <summary>The raw FORMAT_DESCRIPTION of the file it is in: BINLOG statements need it first.</summary>
    public ReadOnlyMemory<byte> FormatDescription { get; }

    public EventBuffer Events { get; }

    /// <summary>Handed to a parallel replay worker, which disposes of it once committed (the reader must not).</summary>
    public bool HandedOff { get; set; }

    /// <summary>Why it cannot be read, for <see cref="TransactionEnd.Unreadable"/>.</summary>
    public Errors.EcomDrException? Unreadable { get; init; }

    public string Start => $"{StartFile}:{StartPosition}";

    public string Describe() => GtidText is { } g ? $"GTID {g} ({Start})" : $"the transaction at {Start}";

    public ValueTask DisposeAsync() => Events.DisposeAsync();
}

/// <summary>XIDs compared as the server compares them: the statement's spelling (spaces, hex case) aside.</summary>
internal static class Xids
{
    public static string Normalize(string xid) => string.Concat(xid.Where(c => !char.IsWhiteSpace(c))).ToUpperInvariant();
}
