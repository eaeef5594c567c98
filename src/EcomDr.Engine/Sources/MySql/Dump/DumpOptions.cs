using EcomDr.Engine.Pipeline.Repository;
namespace EcomDr.Engine.Sources.MySql.Dump;

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
    public const string Kind = BackupKinds.MySqlFull;

    /// <summary>
    /// Bytes per INSERT statement, as the stock dump tools write them (net_buffer_length): big
    /// statements load fastest. The restore sends each line's bytes from a reused buffer, so their
    /// size costs no memory per statement. Capped at half of max_allowed_packet.
    /// </summary>
    public const int DefaultStatementBytes = 1 << 20;

    public int Workers => ThreadCount > 0 ? ThreadCount : Math.Max(2, Environment.ProcessorCount);
}

/// <summary>Progress of a dump, reported from worker threads.</summary>
public sealed record DumpProgress(string Table, long TableRows, long TableEstimate, long TotalRows, long TotalEstimate, long PlainBytes);
