using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.TestKit.Servers;
using EcomDr.TestKit.Shop;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>Send-Binlog's engine against a real MariaDB: the archive is compared byte for byte with the server's own files.</summary>
public sealed class BinlogShippingTests : IAsyncLifetime
{
    private MariaDbServer _server = null!;
    private RepoFixture _repo = null!;

    public async Task InitializeAsync()
    {
        _server = await MariaDbServer.StartAsync();
        _repo = new RepoFixture(frameSize: 1 << 16);
    }

    public async Task DisposeAsync()
    {
        _repo.Dispose();
        await _server.DisposeAsync();
    }

    private MySqlEndpoint Root => new("127.0.0.1", _server.Port, "root", Secret.Empty, "None");

    private async Task<List<BinlogSegment>> ShipAsync(ShipOptions? options = null, CancellationToken ct = default)
    {
        var segments = new List<BinlogSegment>();
        await BinlogShipper.ShipAsync(_repo.Context, Root, options ?? new ShipOptions(ReplicaServerId: 4242), s =>
        {
            lock (segments)
            {
                segments.Add(s);
            }

            return Task.CompletedTask;
        }, null, ct);
        return segments;
    }

    /// <summary>Every file's shipped segments, decrypted and concatenated in order.</summary>
    private async Task<Dictionary<string, byte[]>> ArchiveAsync()
    {
        var chain = await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None);
        var (segments, breaks) = chain.From(null, 0);
        Assert.Empty(breaks);
        var files = new Dictionary<string, MemoryStream>();
        foreach (var segment in segments)
        {
            if (!files.TryGetValue(segment.File, out var file))
            {
                Assert.Equal(0, segment.StartOffset);
                files[segment.File] = file = new MemoryStream();
            }

            Assert.Equal(file.Length, segment.StartOffset);
            var artifact = segment.Backup.Manifest!.Artifacts.Single();
            await using var stream = await ArtifactReader.OpenAsync(_repo.Store, segment.Backup.Prefix + artifact.Path, artifact, _repo.Context.KeyProviders, CancellationToken.None);
            await stream.CopyToAsync(file);
            Assert.True(segment.EndOffset == file.Length,
                $"segment {segment} ({segment.Backup.Manifest.Source["events"]} events) holds {artifact.PlainSize} bytes; all segments: " +
                string.Join("; ", segments.Select(s => $"{s.Sequence} {s} {s.Backup.Manifest!.Source["events"]} ev {s.Backup.Manifest.Artifacts[0].PlainSize} B next {s.NextFile}")));
        }

        return files.ToDictionary(f => f.Key, f => f.Value.ToArray());
    }

    private async Task AssertArchiveMatchesServerAsync(int atLeastFiles)
    {
        var archive = await ArchiveAsync();
        Assert.True(archive.Count >= atLeastFiles, $"{archive.Count} files shipped");
        var active = Convert.ToString(await _server.ScalarAsync("SHOW MASTER STATUS"));
        foreach (var (name, bytes) in archive)
        {
            var server = await File.ReadAllBytesAsync(Path.Join(_server.DataDirectory, name));
            if (name == active)
            {
                Assert.Equal(1, server[21] & 1); // the file being written carries the in-use flag
                server = ClosedForm(server);
            }

            Assert.True(server.AsSpan().SequenceEqual(bytes), $"{name}: shipped {bytes.Length} bytes, the server's file has {server.Length}; first difference at {FirstDifference(server, bytes)}");
        }
    }

    /// <summary>
    /// PURGE BINARY LOGS, retried: MariaDB keeps a binlog until InnoDB has made its transactions durable
    /// (its binlog checkpoint), so a purge right after a rotation may leave the file in place.
    /// </summary>
    internal static async Task PurgeToAsync(MariaDbServer server, string keep, string gone)
    {
        for (var attempt = 0; attempt < 50 && File.Exists(Path.Join(server.DataDirectory, gone)); attempt++)
        {
            await server.ExecuteAsync($"FLUSH ENGINE LOGS; PURGE BINARY LOGS TO '{keep}'");
            await Task.Delay(100);
        }

        Assert.False(File.Exists(Path.Join(server.DataDirectory, gone)), $"{gone} was purged");
    }

    /// <summary>
    /// A binlog file as it will be once closed: the server sets LOG_EVENT_BINLOG_IN_USE_F (bit 0 of the
    /// FORMAT_DESCRIPTION's flags, byte 21 of the file) while it writes a file and clears it when it
    /// closes it, and it never sends the flag to a replica. Clears it and recomputes that event's CRC32.
    /// </summary>
    private static byte[] ClosedForm(byte[] file)
    {
        var copy = (byte[])file.Clone();
        if (copy.Length > 23 && (copy[21] & 1) != 0)
        {
            copy[21] &= 0xFE;
            var size = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(copy.AsSpan(4 + 9));
            var crc = System.IO.Hashing.Crc32.HashToUInt32(copy.AsSpan(4, size - 4));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(4 + size - 4), crc);
        }

        return copy;
    }

    private static int FirstDifference(byte[] a, byte[] b)
    {
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++)
        {
            if (a[i] != b[i])
            {
                return i;
            }
        }

        return n;
    }

    [Fact]
    public async Task ArchiveIsByteIdenticalToTheServersFilesAcrossRotationsWhileTheWorkloadWrites()
    {
        await ShopGenerator.CreateAsync(_server.RootConnectionString, "shop", new ShopSize(200, 30, 500), seed: 3);
        await using var workload = ShopWorkload.Start(_server.RootConnectionString, "shop", workers: 2, transactionsPerSecond: 150);
        var shipped = new List<BinlogSegment>();
        for (var round = 0; round < 4; round++)
        {
            await Task.Delay(400);
            shipped.AddRange(await ShipAsync());
            if (round % 2 == 1)
            {
                await _server.ExecuteAsync("FLUSH BINARY LOGS");
            }
        }

        await workload.StopAsync();
        Assert.Empty(workload.Errors);
        shipped.AddRange(await ShipAsync(new ShipOptions(ReplicaServerId: 4242, Rotate: true)));
        await _server.WaitForQuietBinlogAsync(); // the new file's BINLOG_CHECKPOINT event comes a moment after the rotation
        shipped.AddRange(await ShipAsync());

        Assert.Contains(shipped, s => s.Partial);
        Assert.Contains(shipped, s => !s.Partial && s.NextFile is not null);
        Assert.True(shipped.Sum(s => s.Transactions) > 100);
        await AssertArchiveMatchesServerAsync(atLeastFiles: 3);

        // The newest segment ends where the server's binlog ends now, at its GTID.
        var newest = (await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None)).Newest!;
        var status = await _server.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos");
        Assert.Equal(Convert.ToString(status), (await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None)).Current.Last(s => s.LastGtid.Length > 0).LastGtid);
        Assert.Empty(await ShipAsync());
        Assert.Equal(newest.Id, (await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None)).Newest!.Id);
    }

    [Fact]
    public async Task ABinlogPurgedBeforeItWasShippedIsAGapNamedByItsRange()
    {
        await _server.ExecuteAsync("CREATE DATABASE g; CREATE TABLE g.t (id INT PRIMARY KEY); INSERT INTO g.t VALUES (1)");
        await ShipAsync();
        var shippedTo = (await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None)).Newest!;
        await _server.ExecuteAsync("INSERT INTO g.t VALUES (2); FLUSH BINARY LOGS; INSERT INTO g.t VALUES (3); FLUSH BINARY LOGS");
        var newest = Convert.ToString(await _server.ScalarAsync("SELECT SUBSTRING_INDEX(@@GLOBAL.log_bin_basename, '/', -1)"));
        var files = Directory.GetFiles(_server.DataDirectory, $"{newest}.0*").Select(Path.GetFileName).Order().ToList();
        await PurgeToAsync(_server, files[^1]!, shippedTo.File);
        var oldest = Convert.ToString(await _server.ScalarAsync("SHOW BINARY LOGS"))!;

        var ex = await Assert.ThrowsAsync<EcomDrException>(() => ShipAsync());
        Assert.Equal(ErrorIds.BinlogGap, ex.ErrorId);
        Assert.Contains($"{shippedTo.File}:{shippedTo.EndOffset}", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"oldest binlog starts at {oldest}:4", ex.Message, StringComparison.Ordinal);
        Assert.Equal(shippedTo.Id, (await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None)).Newest!.Id);

        // Told to, it starts a new chain at the oldest binlog the server has.
        var restarted = await ShipAsync(new ShipOptions(ReplicaServerId: 4242, StartNewChain: true));
        Assert.Equal(oldest, restarted[0].File);
        Assert.NotEqual(shippedTo.ChainId, restarted[0].ChainId);
        Assert.Equal(1, restarted[0].Sequence);
    }

    [Fact]
    public async Task AnotherServerBehindTheSameAddressIsRefusedUntilANewChainIsStarted()
    {
        await _server.ExecuteAsync("CREATE DATABASE i; CREATE TABLE i.t (id INT PRIMARY KEY)");
        await ShipAsync();
        var last = (await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None)).Newest!;

        // As after a failover to a replica with its own server id.
        await _server.ExecuteAsync("SET GLOBAL server_id = 99; INSERT INTO i.t VALUES (1)");
        var ex = await Assert.ThrowsAsync<EcomDrException>(() => ShipAsync());
        Assert.Equal(ErrorIds.BinlogSourceChanged, ex.ErrorId);
        Assert.Contains("server_id 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("server_id 99", ex.Message, StringComparison.Ordinal);
        Assert.Equal(last.Id, (await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None)).Newest!.Id);

        var fresh = await ShipAsync(new ShipOptions(ReplicaServerId: 4242, StartNewChain: true));
        Assert.NotEqual(last.ChainId, fresh[0].ChainId);
        Assert.All(fresh, s => Assert.Equal("99", s.ServerId));
    }

    [Fact]
    public async Task ASecondShipperForTheSameEnvironmentGetsTheLockError()
    {
        await _server.ExecuteAsync("CREATE DATABASE l; CREATE TABLE l.t (id INT PRIMARY KEY)");
        using var stop = new CancellationTokenSource();
        var follower = ShipAsync(new ShipOptions(ReplicaServerId: 4242, Follow: true, MaxLag: TimeSpan.FromMilliseconds(500)), stop.Token);
        await Task.Delay(1500);
        var ex = await Assert.ThrowsAsync<EcomDrException>(() => ShipAsync(new ShipOptions(ReplicaServerId: 4243)));
        Assert.Equal(ErrorIds.RepositoryLocked, ex.ErrorId);
        // The follower is registered as a replica under its server id.
        await using (var c = await _server.OpenRootAsync())
        await using (var hosts = new MySqlConnector.MySqlCommand("SHOW SLAVE HOSTS", c))
        await using (var r = await hosts.ExecuteReaderAsync())
        {
            var ids = new List<long>();
            while (await r.ReadAsync())
            {
                ids.Add(Convert.ToInt64(r.GetValue(0)));
            }

            Assert.Contains(4242L, ids);
        }

        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => follower);
    }

    [Fact]
    public async Task FollowShipsWithinMaxLagAndCarriesOnAcrossAServerRestart()
    {
        await _server.ExecuteAsync("CREATE DATABASE f; CREATE TABLE f.t (id INT PRIMARY KEY, at DATETIME(6))");
        using var stop = new CancellationTokenSource();
        var follower = new Follower(_repo.Context, Root, TimeSpan.FromSeconds(1), stop.Token);

        for (var i = 1; i <= 5; i++)
        {
            await _server.ExecuteAsync($"INSERT INTO f.t VALUES ({i}, NOW(6))");
            await Task.Delay(300);
        }

        // The row written last is in a durable segment within a few seconds (MaxLag 1 s).
        var gtid = Convert.ToString(await _server.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos"))!;
        await WaitUntilAsync(() => follower.Shipped(gtid), TimeSpan.FromSeconds(10), "the last insert shipped", follower.Run);

        await _server.RestartAsync(down: TimeSpan.FromSeconds(1));
        for (var i = 6; i <= 8; i++)
        {
            await _server.ExecuteAsync($"INSERT INTO f.t VALUES ({i}, NOW(6))");
        }

        var after = Convert.ToString(await _server.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos"))!;
        await WaitUntilAsync(() => follower.Shipped(after), TimeSpan.FromSeconds(40), "the inserts after the restart shipped", follower.Run);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => follower.Run);

        Assert.Contains(follower.Segments, s => !s.Partial && s.NextFile is not null); // the file the shutdown closed (STOP)
        await ShipAsync();
        await AssertArchiveMatchesServerAsync(atLeastFiles: 2);
    }

    [Fact]
    public async Task AStopRequestStoresTheSegmentInFlightAndReturns()
    {
        await _server.ExecuteAsync("CREATE DATABASE s; CREATE TABLE s.t (id INT PRIMARY KEY)");
        using var stop = new CancellationTokenSource();
        // A lag far longer than the test: only the stop request can end the segment.
        var follower = new Follower(_repo.Context, Root, TimeSpan.FromSeconds(8), CancellationToken.None, stop.Token);
        await Task.Delay(1500);
        await _server.ExecuteAsync("INSERT INTO s.t VALUES (1)");
        var gtid = Convert.ToString(await _server.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos"))!;
        await Task.Delay(300);
        stop.Cancel();
        var shipped = await follower.Run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(follower.Segments.Count, shipped);
        Assert.Equal(gtid, follower.Segments[^1].LastGtid);
        Assert.DoesNotContain(await BackupCatalog.ListAsync(_repo.Context, BinlogSegment.Kind, CancellationToken.None), b => b.Status != BackupStatus.Complete);
    }

    [Fact]
    public async Task FollowRecoversFromANetworkCutAndContinuesExactly()
    {
        await _server.ExecuteAsync("CREATE DATABASE n; CREATE TABLE n.t (id INT PRIMARY KEY)");
        await using var proxy = TcpProxy.Start(_server.Port);
        using var stop = new CancellationTokenSource();
        var follower = new Follower(_repo.Context, Root with { Port = proxy.Port, ConnectTimeoutSeconds = 2 }, TimeSpan.FromSeconds(1), stop.Token);

        await _server.ExecuteAsync("INSERT INTO n.t VALUES (1)");
        var before = Convert.ToString(await _server.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos"))!;
        await WaitUntilAsync(() => follower.Shipped(before), TimeSpan.FromSeconds(10), "the first insert shipped", follower.Run);

        // The link drops (connections reset, connects refused) while the server keeps committing.
        proxy.Cut();
        for (var i = 2; i <= 20; i++)
        {
            await _server.ExecuteAsync($"INSERT INTO n.t VALUES ({i})");
        }

        await Task.Delay(2500);
        proxy.Restore();
        var after = Convert.ToString(await _server.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos"))!;
        await WaitUntilAsync(() => follower.Shipped(after), TimeSpan.FromSeconds(30), "the inserts made during the cut shipped", follower.Run);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => follower.Run);

        // Two connections per (re)start: the identity check and the dump.
        Assert.True(proxy.Connections >= 4, $"the shipper reconnected through the restored link ({proxy.Connections} connections)");
        // Byte identity of the whole archive proves no event was skipped or shipped twice across the cut.
        await AssertArchiveMatchesServerAsync(atLeastFiles: 1);
    }

    /// <summary>A follow-mode shipper in the background, collecting the segments it reports.</summary>
    private sealed class Follower
    {
        private readonly List<BinlogSegment> _segments = new();

        public Follower(RepositoryContext context, MySqlEndpoint endpoint, TimeSpan lag, CancellationToken ct, CancellationToken stop = default)
        {
            Run = BinlogShipper.ShipAsync(context, endpoint, new ShipOptions(ReplicaServerId: 4242, Follow: true, MaxLag: lag), s =>
            {
                lock (_segments)
                {
                    _segments.Add(s);
                }

                return Task.CompletedTask;
            }, null, ct, stop);
        }

        public Task<int> Run { get; }

        public List<BinlogSegment> Segments
        {
            get
            {
                lock (_segments)
                {
                    return _segments.ToList();
                }
            }
        }

        public bool Shipped(string gtid) => Segments.Any(s => s.LastGtid == gtid);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what, Task? worker = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (worker is { IsCompleted: true })
            {
                await worker; // surfaces why the shipper stopped
                throw new InvalidOperationException($"The shipper ended before {what}.");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }

            await Task.Delay(100);
        }
    }
}
