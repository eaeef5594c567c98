namespace EcomDr.Engine.MySql.Dump;

/// <summary>What a full backup takes and how.</summary>
public sealed record DumpOptions(
    IReadOnlyList<string>? Schemas = null,
    int ThreadCount = 0,
    long ChunkRows = 500_000,
    int StatementBytes = DumpOptions.DefaultStatementBytes,
    bool IncludeUsers = false,
    IReadOnlyDictionary<string, string>? Labels = null,
    int? CompressionLevel = null)
{
    public const string Kind = "mysql-full";

    /// <summary>
    /// Bytes per INSERT statement. Small enough that a restore's statement strings stay out of .NET's
    /// large-object heap (85 KB), which otherwise grows until a full collection; large enough that
    /// each statement carries a hundred or more rows.
    /// </summary>
    public const int DefaultStatementBytes = 32 << 10;

    public int Workers => ThreadCount > 0 ? ThreadCount : Math.Max(2, Environment.ProcessorCount);
}

/// <summary>Progress of a dump, reported from worker threads.</summary>
public sealed record DumpProgress(string Table, long TableRows, long TableEstimate, long TotalRows, long TotalEstimate, long PlainBytes);
