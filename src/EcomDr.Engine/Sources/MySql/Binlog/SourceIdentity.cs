using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Shared;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>A binlog file the server still has, and its size.</summary>
public sealed record BinlogFileInfo(string Name, long Size);

/// <summary>
/// Which server the shipper talks to and which binlogs it still has (SHOW BINARY LOGS): what tells a
/// purged-before-shipped file or a different server from a normal continuation.
/// </summary>
internal sealed class SourceIdentity
{
    public required string Endpoint { get; init; }

    public required string Flavor { get; init; }

    public required string ServerId { get; init; }

    public required string ServerUuid { get; init; }

    public required IReadOnlyList<BinlogFileInfo> Files { get; init; }

    public static async Task<SourceIdentity> ReadAsync(MySqlEndpoint endpoint, bool rotate, CancellationToken ct)
    {
        await using var c = await MySqlConnections.OpenAsync(endpoint, ct).ConfigureAwait(false);
        var facts = await ServerFacts.ReadAsync(c, ct).ConfigureAwait(false);
        if (rotate)
        {
            await Sql.ExecAsync(c, "FLUSH BINARY LOGS", ct).ConfigureAwait(false);
        }

        var uuid = facts.Flavor == ServerFlavor.MySql ? await Sql.ScalarAsync(c, "SELECT @@server_uuid", ct).ConfigureAwait(false) : "";
        var files = new List<BinlogFileInfo>();
        try
        {
            await using var cmd = new MySqlCommand("SHOW BINARY LOGS", c);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                files.Add(new BinlogFileInfo(r.GetString(0), Convert.ToInt64(r.GetValue(1))));
            }
        }
        catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.NoBinaryLogging)
        {
            throw new EcomDrException(ErrorIds.BinlogDisabled, FailureKind.InvalidOperation,
                $"{endpoint.Display} has no binary log (log_bin is OFF): there is nothing to ship.", "log_bin", ex);
        }

        return new SourceIdentity
        {
            Endpoint = endpoint.Display,
            Flavor = facts.Flavor.ToString(),
            ServerId = facts.Variable("server_id") ?? "",
            ServerUuid = uuid,
            Files = files,
        };
    }

    /// <summary>Refuses to continue a chain from another server (failover, a rebuilt server).</summary>
    public void CheckSameSource(BinlogSegment last)
    {
        var sameUuid = last.ServerUuid.Length == 0 || ServerUuid.Length == 0 || last.ServerUuid == ServerUuid;
        if (last.ServerId != ServerId || !sameUuid)
        {
            var was = last.ServerUuid.Length > 0 ? $"server_uuid {last.ServerUuid}" : $"server_id {last.ServerId}";
            var now = ServerUuid.Length > 0 ? $"server_uuid {ServerUuid}" : $"server_id {ServerId}";
            throw new EcomDrException(ErrorIds.BinlogSourceChanged, FailureKind.InvalidData,
                $"The shipped chain {last.ChainId} comes from {was}; {Endpoint} is {now}. Its binlog does not continue the chain: take a full backup and use -StartNewChain.",
                Endpoint);
        }
    }

    /// <summary>Fails loudly when the binlog to continue from is gone (purged before it was shipped) or shorter than shipped.</summary>
    public void CheckAvailable(string file, long position, BinlogSegment? last)
    {
        var found = Files.FirstOrDefault(f => f.Name == file);
        var shippedTo = last is null ? $"{file}:{position}" : $"{last.File}:{last.EndOffset}";
        if (found is null)
        {
            var oldest = Files.Count > 0 ? $"{Files[0].Name}:4" : "(none)";
            throw new EcomDrException(ErrorIds.BinlogGap, FailureKind.ResourceUnavailable,
                $"Binlog gap: {file} was purged from {Endpoint} before it was shipped. Shipped up to {shippedTo}; the server's oldest binlog starts at {oldest}; missing: {file}:{position} up to {oldest}. " +
                "Transactions in that range cannot be recovered from binlogs: take a full backup and use -StartNewChain.", $"{file}:{position}");
        }

        if (found.Size < position)
        {
            throw new EcomDrException(ErrorIds.BinlogSourceChanged, FailureKind.InvalidData,
                $"{Endpoint}'s {file} has {found.Size} bytes, but {position} were shipped from it: it is not the file that was shipped. Use -StartNewChain after a new full backup.",
                file);
        }
    }
}
