using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// Where replay stops (at a transaction boundary, never inside one), how schemas are renamed, and
/// whether the original GTIDs are kept (a separate server) or not (a side schema on the live server,
/// where reusing the live server's own GTIDs would collide). SkipGtids names transactions to leave out
/// knowingly (one that writes both inside and outside the restored schemas, say). OutsideTables is the
/// full backup's record of the tables outside its schemas, for a restored table created LIKE one of them.
/// ThreadCount above 1 replays row-only transactions on that many connections at once, committed in
/// binlog order (docs/pitr.md, "Parallel replay"); LockWaitTimeoutSeconds is those connections' InnoDB lock
/// wait, after which a transaction is rolled back and retried in order.
/// </summary>
public sealed record ReplayOptions(
    DateTimeOffset? TargetTime = null,
    string? StopBeforeGtid = null,
    BinlogCoordinate? StopAtPosition = null,
    IReadOnlyDictionary<string, string>? SchemaMap = null,
    bool PreserveGtids = true,
    bool NoBinlog = false,
    IReadOnlyCollection<string>? SkipGtids = null,
    long TransactionMemory = BinlogReplayer.DefaultTransactionMemory,
    IReadOnlyList<Dump.OutsideTable>? OutsideTables = null,
    int ThreadCount = 1,
    int LockWaitTimeoutSeconds = 10)
{
    /// <summary>The default number of replay connections: the cores here, at least 4 (the server mostly waits on round trips).</summary>
    public static int DefaultThreadCount => Math.Max(4, Environment.ProcessorCount);
}

/// <summary>
/// Where a replay stopped and what it applied. LastGtid and LastPosition are those of the last
/// transaction committed on the target; NextCommitTime is the commit time of the transaction it
/// stopped before. Skipped lists the statements left out that concern the restored schemas
/// (they write outside them, or -SkipGtid named them); ForeignTransactions counts the transactions
/// of other schemas, left out. Threads is the number of connections replay used (1: serial);
/// ParallelTransactions how many transactions ran on them, AverageConcurrency how many ran at once on
/// average while any did, and Retries how many were rolled back and run again after a deadlock or a lock wait.
/// </summary>
public sealed record ReplayResult(
    long Transactions,
    long Events,
    string LastGtid,
    string LastFile,
    long LastPosition,
    DateTimeOffset? LastCommitTime,
    string StoppedBecause,
    TimeSpan Elapsed,
    IReadOnlyList<SkippedStatement> Skipped,
    long ForeignTransactions,
    DateTimeOffset? NextCommitTime,
    int Threads = 1,
    long ParallelTransactions = 0,
    double AverageConcurrency = 1,
    long Retries = 0)
{
    public string Mode => Threads > 1 ? "parallel" : "serial";
}

/// <summary>Replay progress: the binlog time reached and what was applied.</summary>
public sealed record ReplayProgress(long Transactions, long Events, string File, long Position, DateTimeOffset? BinlogTime);
