using System.Buffers.Binary;
using System.Text;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>Where and how a binlog dump starts.</summary>
public sealed record BinlogDumpRequest(
    uint ReplicaServerId,
    string File,
    long Position,
    bool NonBlocking,
    TimeSpan? Heartbeat = null,
    string? MariaDbGtidState = null,
    string? MySqlGtidSet = null);

/// <summary>
/// A replica's view of a server's binlog over the replication protocol: registers with a server id,
/// asks for the binlog from a file and position (or a GTID state), and hands out every event the
/// server sends, with its CRC32 verified. Events are the exact bytes of the server's file, except the
/// ones a server makes up for replicas (a ROTATE naming the file, a re-sent FORMAT_DESCRIPTION,
/// heartbeats), which <see cref="FileOffsetOf"/> tells apart.
/// </summary>
public sealed class BinlogDumpClient : IAsyncDisposable
{
    private const ushort NonBlockingFlag = 1;
    private const ushort SendAnnotateRowsFlag = 2; // MariaDB: send ANNOTATE_ROWS events, as in the file
    private readonly WireConnection _connection;
    private readonly BinlogParser _parser = new();

    private BinlogDumpClient(WireConnection connection) => _connection = connection;

    public BinlogFormat Format => _parser.Format;

    public WireConnection Connection => _connection;

    public static async Task<BinlogDumpClient> StartAsync(MySqlEndpoint endpoint, BinlogDumpRequest request, CancellationToken ct)
    {
        var connection = await WireConnection.OpenAsync(endpoint, ct).ConfigureAwait(false);
        try
        {
            var client = new BinlogDumpClient(connection);
            await client.RequestAsync(endpoint, request, ct).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The next event, or null when a non-blocking dump reached the end of the binlog. The event's
    /// bytes stay valid until the next call.
    /// </summary>
    public async ValueTask<BinlogEvent?> ReadAsync(CancellationToken ct)
    {
        ReadOnlyMemory<byte> packet;
        try
        {
            packet = await _connection.Channel.ReadAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            _connection.MarkBroken();
            throw;
        }

        switch (packet.Span[0])
        {
            case 0x00:
                var raw = packet[1..];
                var header = BinlogEventHeader.Parse(raw.Span);
                return _parser.Parse(raw, FileOffsetOf(header) ?? -1);
            case 0xFE when packet.Length < 9:
                return null;
            case 0xFF:
                throw WireServerException.Parse(packet.Span);
            default:
                throw new InvalidDataException($"Unexpected packet 0x{packet.Span[0]:X2} in the binlog stream.");
        }
    }

    /// <summary>
    /// Where an event sits in the server's file, or null for events made up for the replica: the
    /// artificial ROTATE, heartbeats, and events with no position (a re-sent FORMAT_DESCRIPTION).
    /// </summary>
    public static long? FileOffsetOf(BinlogEventHeader header) =>
        header.IsArtificial || header.NextPosition == 0 || header.Type is BinlogEventType.Heartbeat or BinlogEventType.HeartbeatV2
            ? null
            : (long)header.NextPosition - header.EventSize;

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    private async Task RequestAsync(MySqlEndpoint endpoint, BinlogDumpRequest request, CancellationToken ct)
    {
        var c = _connection;
        // A replica must say it handles checksums, or the server refuses to send them (or strips them).
        await c.ExecuteAsync("SET @master_binlog_checksum = @@global.binlog_checksum, @source_binlog_checksum = @@global.binlog_checksum", ct).ConfigureAwait(false);
        var checksum = await c.ScalarAsync("SELECT @@global.binlog_checksum", ct).ConfigureAwait(false);
        _parser.AssumeChecksums(string.Equals(checksum, "CRC32", StringComparison.OrdinalIgnoreCase));
        if (c.IsMariaDb)
        {
            // Capability 4 (MARIA_SLAVE_CAPABILITY_MINE): GTID and other MariaDB events are sent as they are in the file.
            await c.ExecuteAsync("SET @mariadb_slave_capability = 4", ct).ConfigureAwait(false);
        }

        if (request.Heartbeat is { } beat)
        {
            var nanos = (long)(beat.TotalMilliseconds * 1_000_000);
            await c.ExecuteAsync($"SET @master_heartbeat_period = {nanos}, @source_heartbeat_period = {nanos}", ct).ConfigureAwait(false);
        }

        await RegisterAsync(endpoint, request.ReplicaServerId, ct).ConfigureAwait(false);

        var flags = (ushort)((request.NonBlocking ? NonBlockingFlag : 0) | (c.IsMariaDb ? SendAnnotateRowsFlag : 0));
        if (request.MySqlGtidSet is { } gtids && !c.IsMariaDb)
        {
            await SendAsync(DumpGtidCommand(request, flags, gtids), ct).ConfigureAwait(false);
            return;
        }

        var file = request.File;
        var position = request.Position;
        if (request.MariaDbGtidState is { } state && c.IsMariaDb)
        {
            await c.ExecuteAsync($"SET @slave_connect_state = '{Sql.EscapeString(state)}', @slave_gtid_strict_mode = 1, @slave_gtid_ignore_duplicates = 0", ct).ConfigureAwait(false);
            file = "";
            position = 4;
        }

        var name = Encoding.UTF8.GetBytes(file);
        var command = new byte[11 + name.Length];
        command[0] = 0x12; // COM_BINLOG_DUMP
        BinaryPrimitives.WriteUInt32LittleEndian(command.AsSpan(1), checked((uint)position));
        BinaryPrimitives.WriteUInt16LittleEndian(command.AsSpan(5), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(command.AsSpan(7), request.ReplicaServerId);
        name.CopyTo(command, 11);
        await SendAsync(command, ct).ConfigureAwait(false);
    }

    private async Task RegisterAsync(MySqlEndpoint endpoint, uint serverId, CancellationToken ct)
    {
        // COM_REGISTER_SLAVE: shows the shipper in SHOW REPLICA HOSTS under its server id. No password is sent.
        var host = Encoding.UTF8.GetBytes(System.Environment.MachineName.Length > 60 ? System.Environment.MachineName[..60] : System.Environment.MachineName);
        var user = Encoding.UTF8.GetBytes(endpoint.User);
        var command = new List<byte> { 0x15 };
        command.AddRange(BitConverter.GetBytes(serverId));
        command.Add((byte)host.Length);
        command.AddRange(host);
        command.Add((byte)Math.Min(user.Length, 255));
        command.AddRange(user.Take(255));
        command.Add(0); // password
        command.AddRange(BitConverter.GetBytes((ushort)0)); // port
        command.AddRange(BitConverter.GetBytes(0u)); // replication rank
        command.AddRange(BitConverter.GetBytes(0u)); // source id
        await SendAsync(command.ToArray(), ct).ConfigureAwait(false);
        var reply = await _connection.Channel.ReadAsync(ct).ConfigureAwait(false);
        if (reply.Span[0] == 0xFF)
        {
            throw WireServerException.Parse(reply.Span);
        }
    }

    private async Task SendAsync(byte[] command, CancellationToken ct)
    {
        _connection.Channel.Sequence = 0;
        await _connection.Channel.WriteAsync(command, ct).ConfigureAwait(false);
    }

    /// <summary>COM_BINLOG_DUMP_GTID (MySQL): the GTIDs the replica has; the server sends every transaction not in the set.</summary>
    private static byte[] DumpGtidCommand(BinlogDumpRequest request, ushort flags, string gtidSet)
    {
        const ushort throughGtid = 4;
        var set = GtidSetCodec.Encode(gtidSet);
        var name = Encoding.UTF8.GetBytes(request.File);
        var command = new byte[1 + 2 + 4 + 4 + name.Length + 8 + 4 + set.Length];
        var span = command.AsSpan();
        span[0] = 0x1E;
        BinaryPrimitives.WriteUInt16LittleEndian(span[1..], (ushort)(flags | throughGtid));
        BinaryPrimitives.WriteUInt32LittleEndian(span[3..], request.ReplicaServerId);
        BinaryPrimitives.WriteUInt32LittleEndian(span[7..], (uint)name.Length);
        name.CopyTo(span[11..]);
        BinaryPrimitives.WriteUInt64LittleEndian(span[(11 + name.Length)..], (ulong)Math.Max(4, request.Position));
        BinaryPrimitives.WriteUInt32LittleEndian(span[(19 + name.Length)..], (uint)set.Length);
        set.CopyTo(span[(23 + name.Length)..]);
        return command;
    }
}

/// <summary>MySQL's binary GTID set encoding (COM_BINLOG_DUMP_GTID, PREVIOUS_GTIDS): SIDs with half-open intervals.</summary>
internal static class GtidSetCodec
{
    public static byte[] Encode(string text)
    {
        var sids = text.Replace("\n", "", StringComparison.Ordinal).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var bytes = new List<byte>();
        bytes.AddRange(BitConverter.GetBytes((ulong)sids.Length));
        foreach (var sid in sids)
        {
            var parts = sid.Split(':');
            bytes.AddRange(Convert.FromHexString(parts[0].Replace("-", "", StringComparison.Ordinal)));
            bytes.AddRange(BitConverter.GetBytes((ulong)(parts.Length - 1)));
            foreach (var interval in parts.Skip(1))
            {
                var ends = interval.Split('-');
                var start = long.Parse(ends[0], System.Globalization.CultureInfo.InvariantCulture);
                var end = ends.Length > 1 ? long.Parse(ends[1], System.Globalization.CultureInfo.InvariantCulture) : start;
                bytes.AddRange(BitConverter.GetBytes(start));
                bytes.AddRange(BitConverter.GetBytes(end + 1));
            }
        }

        return bytes.ToArray();
    }
}
