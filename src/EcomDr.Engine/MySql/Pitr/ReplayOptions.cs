namespace EcomDr.Engine.MySql.Pitr;

/// <summary>
/// Where replay stops (at a transaction boundary, never inside one), how schemas are renamed, and
/// whether the original GTIDs are kept (a separate server) or not (a side schema on the live server,
/// where reusing the live server's own GTIDs would collide).
/// </summary>
public sealed record ReplayOptions(
    DateTimeOffset? TargetTime = null,
    string? StopBeforeGtid = null,
    (string File, long Position)? StopAtPosition = null,
    IReadOnlyDictionary<string, string>? SchemaMap = null,
    bool PreserveGtids = true,
    bool NoBinlog = false);

/// <summary>Where a replay stopped and what it applied.</summary>
public sealed record ReplayResult(
    long Transactions,
    long Events,
    string LastGtid,
    string LastFile,
    long LastPosition,
    DateTimeOffset? LastCommitTime,
    string StoppedBecause,
    TimeSpan Elapsed);

/// <summary>Replay progress: the binlog time reached and what was applied.</summary>
public sealed record ReplayProgress(long Transactions, long Events, string File, long Position, DateTimeOffset? BinlogTime);
