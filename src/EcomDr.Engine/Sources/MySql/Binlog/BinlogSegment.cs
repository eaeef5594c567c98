using System.Text.Json.Nodes;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>
/// One shipped piece of a binlog file: bytes [StartOffset, EndOffset) of File, stored as one backup of
/// kind mysql-binlog. The segments of a file, in order, concatenate to the server's file byte for
/// byte (the first one starts at 0, with the magic number). Partial: the file was still being written.
/// </summary>
public sealed record BinlogSegment(
    string Id,
    string Environment,
    string Store,
    string ChainId,
    long Sequence,
    string File,
    long StartOffset,
    long EndOffset,
    bool Partial,
    string? NextFile,
    DateTimeOffset? FirstEventTime,
    DateTimeOffset? LastEventTime,
    string FirstGtid,
    string LastGtid,
    int Transactions,
    string Server,
    string ServerId,
    string ServerUuid,
    long FileCreated,
    long StoredBytes,
    DateTimeOffset? Completed,
    BackupInfo Backup)
{
    public const string Kind = BackupKinds.MySqlBinlog;

    public long Bytes => EndOffset - StartOffset;

    /// <summary>Where shipping continues after this segment.</summary>
    public BinlogCoordinate Next => NextFile is { } next ? BinlogCoordinate.StartOf(next) : new BinlogCoordinate(File, EndOffset);

    public static BinlogSegment FromBackup(BackupInfo backup)
    {
        var s = backup.Source;
        static DateTimeOffset? Time(JsonNode? n) => n is null ? null : DateTimeOffset.Parse((string)n!, System.Globalization.CultureInfo.InvariantCulture);
        return new BinlogSegment(backup.Id, backup.Environment, backup.Store, (string)s["chainId"]!, (long)s["sequence"]!, (string)s["binlogFile"]!,
            (long)s["startOffset"]!, (long)s["binlogPosition"]!, (bool)s["partial"]!, (string?)s["nextFile"], Time(s["firstEventTime"]), Time(s["lastEventTime"]),
            (string?)s["firstGtid"] ?? "", (string?)s["lastGtid"] ?? "", (int?)s["transactions"] ?? 0, (string?)s["server"] ?? "", (string?)s["serverId"] ?? "",
            (string?)s["serverUuid"] ?? "", (long?)s["fileCreated"] ?? 0, backup.Size, backup.Completed, backup);
    }

    public override string ToString() => $"{File}:{StartOffset}-{EndOffset}{(Partial ? " (partial)" : "")}";
}
