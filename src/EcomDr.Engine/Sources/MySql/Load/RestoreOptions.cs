namespace EcomDr.Engine.Sources.MySql.Load;

/// <summary>
/// How a full backup is restored. VerifyFirst checks every artifact's stored SHA-256 before anything
/// changes (null: on for a remote store); KeepFailed keeps what a failed restore created, for
/// forensics, instead of removing it. LoadData lets chunks load as LOAD DATA LOCAL where the target
/// allows it (<see cref="LoadDataChunk"/>); off, every chunk runs as the INSERT statements it holds.
/// </summary>
public sealed record RestoreOptions(
    string? TargetSchema = null,
    IReadOnlyDictionary<string, string>? SchemaMap = null,
    IReadOnlyList<string>? Tables = null,
    int ThreadCount = 0,
    bool Force = false,
    bool NoBinlog = false,
    bool IncludeUsers = false,
    bool DeferKeys = true,
    bool? VerifyFirst = null,
    bool KeepFailed = false,
    bool FastTarget = false,
    bool LoadData = true)
{
    /// <summary>
    /// Default connections: the cores, at least 4. The server waits on its disk part of the time; on
    /// 2 cores, 4 connections loaded the sample shop about 15 % faster than 2.
    /// </summary>
    public int Workers => ThreadCount > 0 ? ThreadCount : Math.Max(4, Environment.ProcessorCount);
}

/// <summary>Progress of a restore, reported from worker threads.</summary>
public sealed record RestoreProgress(string Phase, string Item, long Rows, int ChunksDone, int Chunks);

/// <summary>
/// What a restore did, and where point-in-time recovery continues from. ChunkRetries counts chunk
/// transactions loaded again after a deadlock or lock-wait timeout.
/// </summary>
public sealed record RestoreResult(
    string BackupId,
    string Target,
    IReadOnlyDictionary<string, string> Schemas,
    int Tables,
    int Chunks,
    long Rows,
    long PlainBytes,
    TimeSpan SchemaPhase,
    TimeSpan DataPhase,
    TimeSpan KeysPhase,
    TimeSpan ObjectsPhase,
    TimeSpan Elapsed,
    string BinlogFile,
    long BinlogPosition,
    string GtidSet,
    int ChunkRetries)
{
    /// <summary>Chunks loaded as LOAD DATA LOCAL rather than as INSERT statements.</summary>
    public int LoadDataChunks { get; init; }

    public string Coordinates => $"{BinlogFile}:{BinlogPosition}" + (GtidSet.Length > 0 ? $" / {GtidSet}" : "");
}
