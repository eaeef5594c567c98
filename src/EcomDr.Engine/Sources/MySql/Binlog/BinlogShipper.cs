using System.Diagnostics;
using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>How Send-Binlog ships.</summary>
public sealed record ShipOptions(
    uint ReplicaServerId,
    bool Follow = false,
    TimeSpan? MaxLag = null,
    long MaxSegmentBytes = 64L << 20,
    bool Rotate = false,
    bool StartNewChain = false,
    BinlogCoordinate? Start = null)
{
    public TimeSpan Lag => MaxLag ?? TimeSpan.FromSeconds(30);

    /// <summary>A stable replica server id per host, far above the ids servers usually get.</summary>
    public static uint DerivedReplicaServerId()
    {
        var hash = System.IO.Hashing.Crc32.HashToUInt32(System.Text.Encoding.UTF8.GetBytes(System.Environment.MachineName.ToLowerInvariant()));
        return 2_000_000_000 + hash % 100_000_000;
    }
}

/// <summary>Progress of a shipper: where it stands in the server's binlog.</summary>
public sealed record ShipProgress(string File, long Position, long BytesShipped, int Segments, DateTimeOffset? LastEventTime, string State);

/// <summary>
/// Send-Binlog's engine: pulls the binlog as a replica and stores it as segments, continuing exactly
/// from the last complete segment in the repository (its manifest is the checkpoint: a segment cut
/// short by a crash has none, so its bytes are shipped again, never twice). One shipper per
/// environment holds the mysql-binlog lock for its whole run.
/// </summary>
public static class BinlogShipper
{

    /// <summary>
    /// Ships until the binlog's end (one-shot) or until <paramref name="stop"/> (follow): a stop
    /// finishes and stores the segment in flight, then returns; <paramref name="ct"/> aborts at once.
    /// </summary>
    public static async Task<int> ShipAsync(RepositoryContext context, MySqlEndpoint endpoint, ShipOptions options, Func<BinlogSegment, Task> shipped,
        IProgress<ShipProgress>? progress, CancellationToken ct, CancellationToken stop = default)
    {
        await using var held = await RepositoryLock.AcquireAsync(context.Store, context.Environment, BinlogSegment.Kind, $"Send-Binlog from {endpoint.Display}",
            TimeSpan.FromMinutes(2), ct).ConfigureAwait(false);
        var count = 0;
        var backoff = TimeSpan.FromSeconds(1);
        var startNewChain = options.StartNewChain;
        while (true)
        {
            try
            {
                await ShipOnceAsync(context, held, endpoint, options, startNewChain, async s =>
                {
                    count++;
                    backoff = TimeSpan.FromSeconds(1);
                    await shipped(s).ConfigureAwait(false);
                }, progress, ct, stop).ConfigureAwait(false);
                startNewChain = false;
                if (!options.Follow || stop.IsCancellationRequested)
                {
                    return count;
                }

                // Following, the stream only ends when the server goes away (shutdown): wait, then reconnect.
                progress?.Report(new ShipProgress("", 0, 0, count, null, $"the server ended the stream; reconnecting in {backoff.TotalSeconds:0} s"));
                await Task.Delay(backoff, ct).ConfigureAwait(false);
                backoff = TimeSpan.FromSeconds(Math.Min(30, backoff.TotalSeconds * 2));
            }
            catch (Exception ex) when (options.Follow && !ct.IsCancellationRequested && !stop.IsCancellationRequested && IsTransient(ex))
            {
                // Network loss or a server restart: continue from the last durable segment.
                startNewChain = false;
                progress?.Report(new ShipProgress("", 0, 0, count, null, $"reconnecting in {backoff.TotalSeconds:0} s: {ex.Message}"));
                await Task.Delay(backoff, ct).ConfigureAwait(false);
                backoff = TimeSpan.FromSeconds(Math.Min(30, backoff.TotalSeconds * 2));
            }
        }
    }

    private static bool IsTransient(Exception ex) => ex switch
    {
        EcomDrException e => e.ErrorId == ErrorIds.ConnectionFailed,
        WireServerException w => w.Code is 1053 or 1927 or 2013, // shutdown in progress, connection killed, lost
        IOException or EndOfStreamException or System.Net.Sockets.SocketException => true,
        InvalidOperationException => true, // a connection broken mid-read
        _ => false,
    };

    /// <summary>One connection's worth of shipping: until the stream ends (the binlog's end in one-shot mode).</summary>
    private static async Task ShipOnceAsync(RepositoryContext context, RepositoryLock held, MySqlEndpoint endpoint, ShipOptions options, bool startNewChain,
        Func<BinlogSegment, Task> shipped, IProgress<ShipProgress>? progress, CancellationToken ct, CancellationToken stop)
    {
        var identity = await SourceIdentity.ReadAsync(endpoint, options.Rotate, ct).ConfigureAwait(false);
        var chain = await BinlogChain.LoadAsync(context, ct).ConfigureAwait(false);
        var last = chain.Newest;
        string chainId;
        long sequence;
        string file;
        long position;
        long fileCreated = 0;
        if (last is null || startNewChain)
        {
            chainId = Guid.NewGuid().ToString("N")[..12];
            sequence = 1;
            (file, position) = options.Start ?? BinlogCoordinate.StartOf(identity.Files[0].Name);
        }
        else
        {
            chainId = last.ChainId;
            sequence = last.Sequence + 1;
            (file, position) = last.Next;
            fileCreated = last.NextFile is null ? last.FileCreated : 0;
            identity.CheckSameSource(last);
        }

        identity.CheckAvailable(file, position, last);

        await using var client = await BinlogDumpClient.StartAsync(endpoint, new BinlogDumpRequest(options.ReplicaServerId, file, position, NonBlocking: !options.Follow,
            Heartbeat: options.Follow ? TimeSpan.FromMilliseconds(Math.Clamp(options.Lag.TotalMilliseconds / 4, 100, 5000)) : null), ct).ConfigureAwait(false);
        var cursor = new Cursor(file, position, fileCreated);
        long shippedBytes = 0;
        while (true)
        {
            // Following, heartbeats (null) let a stop request end the wait for the next event.
            var first = await cursor.NextFileEventAsync(client, ct, stopAtHeartbeat: options.Follow).ConfigureAwait(false);
            if (first is null)
            {
                if (options.Follow && !cursor.Ended && !stop.IsCancellationRequested)
                {
                    continue;
                }

                return; // a non-blocking dump reached the end, the server ended the stream, or a stop was asked for
            }

            var segment = await WriteSegmentAsync(context, held, identity, chainId, sequence, cursor, first, client, options, ct, stop).ConfigureAwait(false);
            sequence++;
            shippedBytes += segment.Bytes;
            progress?.Report(new ShipProgress(segment.File, segment.EndOffset, shippedBytes, (int)(sequence - 1), segment.LastEventTime, "shipped"));
            await shipped(segment).ConfigureAwait(false);
            if (cursor.Ended || stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private static async Task<BinlogSegment> WriteSegmentAsync(RepositoryContext context, RepositoryLock held, SourceIdentity identity, string chainId, long sequence,
        Cursor cursor, BinlogEvent first, BinlogDumpClient client, ShipOptions options, CancellationToken ct, CancellationToken stop)
    {
        await using var writer = BackupWriter.BeginUnder(context, held, BinlogSegment.Kind, null);
        var file = cursor.File;
        var start = first.Position == 4 ? 0 : first.Position;
        var facts = new SegmentFacts();
        var clock = Stopwatch.StartNew();
        await writer.AddArtifactAsync($"{file}.{start:D12}", async (artifact, token) =>
        {
            // Events are often tens of bytes: gather them so the pipeline (zstd, AES, SHA-256) sees big
            // writes. Flushed, not disposed: the pipeline closes the artifact stream itself.
            var stream = new BufferedStream(artifact, 256 << 10);
            if (start == 0)
            {
                await stream.WriteAsync(BinlogParser.Magic.ToArray(), token).ConfigureAwait(false);
            }

            BinlogEvent? e = first;
            while (true)
            {
                if (e is not null)
                {
                    await stream.WriteAsync(e.Raw, token).ConfigureAwait(false);
                    facts.Add(e, cursor);
                    if (e.Type is BinlogEventType.Rotate or BinlogEventType.Stop)
                    {
                        break; // the file is complete
                    }
                }

                if (cursor.Position - start >= options.MaxSegmentBytes || (options.Follow && clock.Elapsed >= options.Lag) || cursor.Ended || stop.IsCancellationRequested)
                {
                    break;
                }

                // One-shot: up to the end of what the server has. Follow: a heartbeat (null) wakes us to cut on time.
                e = await cursor.NextFileEventAsync(client, token, stopAtHeartbeat: options.Follow).ConfigureAwait(false);
                if (e is null && !options.Follow)
                {
                    break;
                }
            }

            await stream.FlushAsync(token).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);

        var source = writer.Source;
        source["server"] = identity.Endpoint;
        source["flavor"] = identity.Flavor;
        source["serverId"] = identity.ServerId;
        source["serverUuid"] = identity.ServerUuid;
        source["chainId"] = chainId;
        source["sequence"] = sequence;
        source["binlogFile"] = file;
        source["startOffset"] = start;
        source["binlogPosition"] = facts.EndOffset;
        source["partial"] = facts.NextFile is null;
        source["nextFile"] = facts.NextFile;
        source["fileCreated"] = cursor.FileCreated;
        source["firstEventTime"] = facts.FirstTime?.ToString("O");
        source["lastEventTime"] = facts.LastTime?.ToString("O");
        source["firstGtid"] = facts.FirstGtid;
        source["lastGtid"] = facts.LastGtid;
        source["gtidSet"] = facts.LastGtid;
        source["transactions"] = facts.Transactions;
        source["events"] = facts.Events;
        return BinlogSegment.FromBackup(await writer.CompleteAsync(ct).ConfigureAwait(false));
    }

    /// <summary>Tracks where the stream stands in the server's file and keeps only the file's own events, in order.</summary>
    private sealed class Cursor(string file, long position, long fileCreated)
    {
        public string File { get; private set; } = file;

        public long Position { get; private set; } = position;

        public long FileCreated { get; private set; } = fileCreated;

        /// <summary>The stream ended (one-shot), or the server stopped (STOP event).</summary>
        public bool Ended { get; private set; }

        /// <summary>
        /// The next event that belongs in the file at the current position; null at the end of a
        /// non-blocking dump, or on a heartbeat when asked to stop there (follow mode's clock).
        /// </summary>
        public async ValueTask<BinlogEvent?> NextFileEventAsync(BinlogDumpClient client, CancellationToken ct, bool stopAtHeartbeat = false)
        {
            while (true)
            {
                var e = await client.ReadAsync(ct).ConfigureAwait(false);
                if (e is null)
                {
                    Ended = true;
                    return null;
                }

                var offset = BinlogDumpClient.FileOffsetOf(e.Header);
                if (e.Type == BinlogEventType.Rotate && offset is null)
                {
                    // The server names the file it streams next (at connect, and after each real ROTATE).
                    var rotate = BinlogDecoders.Rotate(e);
                    if (rotate.NextFile != File)
                    {
                        (File, Position, FileCreated) = (rotate.NextFile, rotate.Position, 0);
                    }

                    continue;
                }

                if (e.Type == BinlogEventType.FormatDescription)
                {
                    CheckFileIdentity(e);
                }

                if (offset is null)
                {
                    if (stopAtHeartbeat && e.Type is BinlogEventType.Heartbeat or BinlogEventType.HeartbeatV2)
                    {
                        return null;
                    }

                    continue;
                }

                if (offset < Position)
                {
                    continue; // re-sent from the start of the file (MariaDB sends its FDE again)
                }

                if (offset > Position)
                {
                    throw new EcomDrException(ErrorIds.BinlogGap, FailureKind.InvalidData,
                        $"The server's binlog stream jumped from {File}:{Position} to {File}:{offset}; nothing in between was received.", $"{File}:{Position}");
                }

                Position = e.Header.NextPosition;
                return e;
            }
        }

        private void CheckFileIdentity(BinlogEvent fde)
        {
            // The FDE's timestamp is when the file was created: a different one means another file of the same name.
            if (FileCreated != 0 && fde.Header.Timestamp != 0 && fde.Header.Timestamp != FileCreated)
            {
                throw new EcomDrException(ErrorIds.BinlogSourceChanged, FailureKind.InvalidData,
                    $"The server's {File} was created at {DateTimeOffset.FromUnixTimeSeconds(fde.Header.Timestamp):u}, the shipped one at {DateTimeOffset.FromUnixTimeSeconds(FileCreated):u}: it is not the same file (a restored or replaced server?). Use -StartNewChain after a new full backup.",
                    File);
            }

            if (fde.Header.Timestamp != 0)
            {
                FileCreated = fde.Header.Timestamp;
            }
        }
    }

    /// <summary>What a segment holds, for its manifest.</summary>
    private sealed class SegmentFacts
    {
        public DateTimeOffset? FirstTime { get; private set; }

        public DateTimeOffset? LastTime { get; private set; }

        public string FirstGtid { get; private set; } = "";

        public string LastGtid { get; private set; } = "";

        public int Transactions { get; private set; }

        public int Events { get; private set; }

        public string? NextFile { get; private set; }

        public long EndOffset { get; private set; }

        public void Add(BinlogEvent e, Cursor cursor)
        {
            Events++;
            EndOffset = e.Header.NextPosition;
            if (e.Header.Timestamp != 0 && e.Type is not BinlogEventType.FormatDescription and not BinlogEventType.Rotate)
            {
                FirstTime ??= e.Header.Time;
                LastTime = e.Header.Time;
            }

            if (e.Type is BinlogEventType.MariaGtid or BinlogEventType.Gtid)
            {
                var gtid = BinlogDecoders.Gtid(e).Text;
                if (FirstGtid.Length == 0)
                {
                    FirstGtid = gtid;
                }

                LastGtid = gtid;
                Transactions++;
            }

            if (e.Type == BinlogEventType.Rotate)
            {
                NextFile = BinlogDecoders.Rotate(e).NextFile;
            }
            else if (e.Type == BinlogEventType.Stop)
            {
                NextFile = NextFileName(cursor.File);
            }
        }

        // After a STOP the server starts a new file on restart, numbered one higher.
        private static string NextFileName(string file)
        {
            var dot = file.LastIndexOf('.');
            var digits = file[(dot + 1)..];
            return file[..(dot + 1)] + (long.Parse(digits, System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(new string('0', digits.Length), System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
