namespace EcomDr.Engine.MySql.Dump;

/// <summary>What a full backup takes and how.</summary>
public sealed record DumpOptions(
    IReadOnlyList<string>? Schemas = null,
    int ThreadCount = 0,
    long ChunkRows = 500_000,
    int StatementBytes = 1 << 20,
    bool IncludeUsers = false,
    IReadOnlyDictionary<string, string>? Labels = null)
{
    public const string Kind = "mysql-full";

    public int Workers => ThreadCount > 0 ? ThreadCount : Math.Max(2, Environment.ProcessorCount);
}

/// <summary>Progress of a dump, reported from worker threads.</summary>
public sealed record DumpProgress(string Table, long TableRows, long TableEstimate, long TotalRows, long TotalEstimate, long PlainBytes);
