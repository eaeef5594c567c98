using System.Diagnostics;
using System.Security.Cryptography;
using EcomDr.Engine.Config;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.Redis;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Sources.Redis;

/// <summary>
/// Backup-RedisSnapshot's engine against a real Redis (Debian's redis-server 7.0, RDB 10) holding every
/// value type in three databases, taken while a writer runs: the stored RDB passes redis-check-rdb, a
/// redis-server started on it holds exactly the keys the reader lists, and a cut transfer, a flipped
/// byte, a wrong password, a user without +sync and TLS against a plain port leave no complete backup.
/// </summary>
public sealed class RedisSnapshotTests : IAsyncLifetime
{
    private readonly RepoFixture _repo = new();
    private RedisServer _redis = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        await using var c = await ConnectAsync(_redis.Port);
        await PopulateAsync(c);
    }

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        _repo.Dispose();
    }

    private static RedisEndpoint Endpoint(int port, string? user = null, string? password = null, RedisTlsMode tls = RedisTlsMode.None) =>
        new("127.0.0.1", port, tls, null, user, password is null ? null : new Secret(password), TimeSpan.FromSeconds(30));

    private static Task<RespConnection> ConnectAsync(int port) => RespConnection.ConnectAsync(Endpoint(port), CancellationToken.None);

    private static async Task Run(RespConnection c, params string[] args)
    {
        var reply = await c.CommandAsync(CancellationToken.None, args);
        Assert.False(reply.IsError, $"{string.Join(' ', args.Take(3))}: {reply.Text}");
    }

    // Every type and encoding Redis 7.0 writes: strings and integers, lists small (listpack node) and big
    // (many quicklist nodes), sets of integers, of strings and big, sorted sets and hashes small and big,
    // a stream with a consumer group and pending entries, keys with TTLs, and three databases.
    private static async Task PopulateAsync(RespConnection c)
    {
        for (var i = 0; i < 200; i++)
        {
            await Run(c, "SET", $"str:{i}", i % 2 == 0 ? i.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"value-{i}-{new string('x', i)}");
        }

        // Incompressible values, so that the RDB is large enough to be cut or damaged mid-transfer.
        for (var i = 0; i < 1000; i++)
        {
            await Run(c, "SET", $"blob:{i}", Convert.ToBase64String(RandomNumberGenerator.GetBytes(768)));
        }

        for (var batch = 0; batch < 20; batch++)
        {
            await Run(c, ["RPUSH", "queue:big", .. Enumerable.Range(batch * 1000, 1000).Select(i => $"job-{i}")]);
        }

        await Run(c, "RPUSH", "queue:small", "a", "b", "c");
        await Run(c, "SADD", "set:ints", "1", "2", "3", "40000");
        await Run(c, "SADD", "set:small", "red", "green", "blue");
        await Run(c, ["SADD", "set:big", .. Enumerable.Range(0, 1000).Select(i => $"member-{i}")]);
        await Run(c, "ZADD", "zset:small", "1", "one", "2.5", "two", "-3", "three");
        await Run(c, ["ZADD", "zset:big", .. Enumerable.Range(0, 300).SelectMany(i => new[] { (i * 1.5).ToString(System.Globalization.CultureInfo.InvariantCulture), $"m{i}" })]);
        await Run(c, "HSET", "hash:small", "name", "ada", "age", "36");
        await Run(c, ["HSET", "hash:big", .. Enumerable.Range(0, 1000).SelectMany(i => new[] { $"f{i}", new string('v', i % 50) })]);
        for (var i = 0; i < 500; i++)
        {
            await Run(c, "XADD", "events", "*", "order", i.ToString(System.Globalization.CultureInfo.InvariantCulture), "status", "paid");
        }

        await Run(c, "XGROUP", "CREATE", "events", "workers", "0");
        await Run(c, "XGROUP", "CREATE", "events", "unread", "0"); // never read: its entries-read is stored as -1 (all 64 bits set)
        await Run(c, "XREADGROUP", "GROUP", "workers", "alice", "COUNT", "10", "STREAMS", "events", ">");
        for (var i = 0; i < 50; i++)
        {
            await Run(c, "SET", $"session:{i}", RandomNumberGenerator.GetHexString(32), "EX", "3600");
        }

        await Run(c, "SET", "counter", "0");
        await Run(c, "RPUSH", "writer:log", "start");
        await Run(c, "SELECT", "1");
        for (var i = 0; i < 100; i++)
        {
            await Run(c, "SET", $"cache:{i}", $"page-{i}");
        }

        await Run(c, "SELECT", "3");
        await Run(c, "HSET", "config", "feature", "on");
    }

    /// <summary>Keys per database on a live server.</summary>
    private static async Task<SortedDictionary<int, SortedSet<string>>> KeysAsync(int port)
    {
        await using var c = await ConnectAsync(port);
        var result = new SortedDictionary<int, SortedSet<string>>();
        for (var db = 0; db < 16; db++)
        {
            await Run(c, "SELECT", db.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var keys = (await c.CommandAsync(CancellationToken.None, "KEYS", "*")).Items!.Select(k => k.AsText()).ToList();
            if (keys.Count > 0)
            {
                result[db] = new SortedSet<string>(keys, StringComparer.Ordinal);
            }
        }

        return result;
    }

    private async Task<string> ExpandAsync(BackupInfo backup)
    {
        var artifact = backup.Manifest!.Artifacts.Single();
        var file = Path.Join(_repo.Root, $"{backup.Id}.rdb");
        await using (var input = await ArtifactReader.OpenAsync(_repo.Store, backup.Prefix + artifact.Path, artifact, _repo.Context.KeyProviders, CancellationToken.None))
        await using (var output = File.Create(file))
        {
            await input.CopyToAsync(output);
        }

        return file;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ASnapshotTakenUnderAWriterPassesRedisCheckRdbAndLoadsIntoRedisWithTheKeysTheReaderLists(bool diskless)
    {
        await using (var c = await ConnectAsync(_redis.Port))
        {
            await Run(c, "CONFIG", "SET", "repl-diskless-sync", diskless ? "yes" : "no");
        }

        using var stop = new CancellationTokenSource();
        var writes = 0;
        var writer = Task.Run(async () =>
        {
            await using var c = await ConnectAsync(_redis.Port);
            while (!stop.IsCancellationRequested)
            {
                await Run(c, "INCR", "counter");
                await Run(c, "RPUSH", "writer:log", $"entry-{++writes}");
            }
        });
        RedisSnapshotResult result;
        try
        {
            // The writer has written before the snapshot starts: a state, not a time.
            while (Volatile.Read(ref writes) < 50)
            {
                await Task.Yield();
            }

            result = await RedisSnapshot.RunAsync(_repo.Context, Endpoint(_redis.Port), [0, 1, 3, 5], null, null, CancellationToken.None);
        }
        finally
        {
            stop.Cancel();
            await writer;
        }

        Assert.Equal(diskless, result.Diskless);
        Assert.Equal(10, result.Rdb.Version);
        Assert.True(result.Rdb.ChecksumVerified);
        Assert.Equal(new[] { 0, 1, 3 }, result.Rdb.KeysPerDatabase.Keys);
        // 200 strings, 1000 blobs, 2 lists, 3 sets, 2 sorted sets, 2 hashes, a stream, 50 sessions, the writer's 2 keys.
        Assert.Equal((1262L, 100L, 1L), (result.Rdb.KeysPerDatabase[0], result.Rdb.KeysPerDatabase[1], result.Rdb.KeysPerDatabase[3]));
        Assert.Equal(50, result.Rdb.ExpiresPerDatabase[0]);
        Assert.Contains(result.Warnings, w => w.Contains("Database 5 was expected", StringComparison.Ordinal));
        var manifest = result.Backup.Manifest!;
        Assert.Equal("7.0.15", manifest.Labels["redis-ver"]);
        Assert.Equal("db0=1262,db1=100,db3=1", manifest.Labels["keys"]);
        Assert.Equal("verified", (string?)manifest.Source["checksum"]);

        var file = await ExpandAsync(result.Backup);
        Assert.Equal(manifest.Artifacts[0].PlainSha256, Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(file))).ToLowerInvariant());
        var check = Process.Start(new ProcessStartInfo("redis-check-rdb", file) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var report = await check.StandardOutput.ReadToEndAsync();
        await check.WaitForExitAsync();
        Assert.True(check.ExitCode == 0, report);
        Assert.Contains("RDB looks OK", report, StringComparison.Ordinal);

        // A server started on the file holds exactly the keys the reader lists, database by database.
        var listed = new SortedDictionary<int, SortedSet<string>>();
        await using (var stream = File.OpenRead(file))
        {
            await RdbReader.Over(stream, file).ReadAsync((k, _) =>
            {
                (listed.TryGetValue(k.Database, out var set) ? set : listed[k.Database] = new SortedSet<string>(StringComparer.Ordinal)).Add(k.KeyText);
                return ValueTask.CompletedTask;
            }, CancellationToken.None);
        }

        await using var loaded = await RedisServer.StartAsync(file);
        var served = await KeysAsync(loaded.Port);
        Assert.Equal(listed.Keys, served.Keys);
        foreach (var db in listed.Keys)
        {
            Assert.Equal(listed[db], served[db]);
        }
    }

    [Fact]
    public async Task RestoreLoadsEveryKeyWithTheDigestOfAServerStartedOnTheFileAndRefusesATargetThatHoldsKeys()
    {
        var snapshot = await RedisSnapshot.RunAsync(_repo.Context, Endpoint(_redis.Port), [], null, null, CancellationToken.None);
        var file = await ExpandAsync(snapshot.Backup);
        await using var loaded = await RedisServer.StartAsync(file);
        await using var target = await RedisServer.StartAsync();

        // Listed from the repository without any server: every key, no value bytes kept.
        var listed = new List<RdbKey>();
        await foreach (var key in RedisSnapshotKeys.ListAsync(_repo.Context, snapshot.Backup, null, false, CancellationToken.None))
        {
            listed.Add(key);
        }

        Assert.Equal(snapshot.Rdb.Keys, listed.Count);
        Assert.All(listed, k => Assert.Null(k.Value));
        var queue = listed.Single(k => k.KeyText == "queue:big");
        Assert.Equal(("list", "quicklist", 20_000L), (queue.Type, queue.Encoding, queue.Length));
        Assert.Equal(500L, listed.Single(k => k.KeyText == "events").Length);
        Assert.InRange(listed.Single(k => k.KeyText == "session:7").Ttl!.Value, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));

        var restored = await RedisSnapshotRestore.RunAsync(_repo.Context, snapshot.Backup, Endpoint(target.Port), null, false, null, CancellationToken.None);
        Assert.Empty(restored.Refused);
        Assert.Equal((snapshot.Rdb.Keys, 0L), (restored.Restored, restored.Expired));

        // Value by value, the target holds what a server started on the file holds (DEBUG DIGEST-VALUE), TTLs included.
        await using (var fromFile = await ConnectAsync(loaded.Port))
        await using (var fromRestore = await ConnectAsync(target.Port))
        {
            foreach (var key in listed)
            {
                foreach (var c in new[] { fromFile, fromRestore })
                {
                    await Run(c, "SELECT", key.Database.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                var expected = (await fromFile.CommandAsync(CancellationToken.None, "DEBUG", "DIGEST-VALUE", key.KeyText)).Items![0].AsText();
                var actual = (await fromRestore.CommandAsync(CancellationToken.None, "DEBUG", "DIGEST-VALUE", key.KeyText)).Items![0].AsText();
                Assert.True(expected == actual, $"db{key.Database} {key.KeyText}: {actual}, expected {expected}");
                if (key.ExpiresAt is not null)
                {
                    Assert.True((await fromRestore.CommandAsync(CancellationToken.None, "PTTL", key.KeyText)).Integer > 0, key.KeyText);
                }
            }
        }

        // Not into a Redis that holds keys, unless asked to replace.
        var full = await Assert.ThrowsAsync<EcomDrException>(() => RedisSnapshotRestore.RunAsync(_repo.Context, snapshot.Backup, Endpoint(target.Port), null, false, null, CancellationToken.None));
        Assert.Equal(ErrorIds.TargetNotEmpty, full.ErrorId);
        var queues = await RedisSnapshotRestore.RunAsync(_repo.Context, snapshot.Backup, Endpoint(target.Port), (_, k) => k.AsSpan().StartsWith("queue:"u8), true, null,
            CancellationToken.None);
        Assert.Equal(2, queues.Restored);
    }

    [Fact]
    public async Task ACutTransferOrAFlippedByteLeavesNoCompleteBackup()
    {
        await using var proxy = TcpProxy.Start(_redis.Port);
        proxy.CutServerAfter = 256 << 10;
        var lost = await Assert.ThrowsAsync<EcomDrException>(() => RedisSnapshot.RunAsync(_repo.Context, Endpoint(proxy.Port), [], null, null, CancellationToken.None));
        Assert.Equal(1, proxy.ServerCuts); // the link went down mid-RDB (it is about 1.3 MB)
        Assert.Contains(lost.ErrorId, new[] { ErrorIds.ConnectionFailed, ErrorIds.RdbCorrupt });

        proxy.CutServerAfter = null;
        proxy.FlipServerByteAt = 300_000;
        var damaged = await Assert.ThrowsAsync<EcomDrException>(() => RedisSnapshot.RunAsync(_repo.Context, Endpoint(proxy.Port), [], null, null, CancellationToken.None));
        Assert.Equal(ErrorIds.RdbCorrupt, damaged.ErrorId);

        // The partial uploads were abandoned: nothing that looks like a backup, let alone a complete one.
        var backups = await BackupCatalog.ListAsync(_repo.Context, BackupKinds.Redis, CancellationToken.None);
        Assert.DoesNotContain(backups, b => b.Status == BackupStatus.Complete);
        Assert.Empty(Directory.Exists(_repo.Store.Root) ? Directory.GetFiles(_repo.Store.Root, "manifest.json", SearchOption.AllDirectories) : []);
    }

    [Fact]
    public async Task AWrongPasswordAUserWithoutSyncAndTlsAgainstAPlainPortFailBeforeAnythingIsWritten()
    {
        await using (var c = await ConnectAsync(_redis.Port))
        {
            await Run(c, "ACL", "SETUSER", "snapshot", "on", ">right-pw", "+sync", "+replconf", "+ping");
            await Run(c, "ACL", "SETUSER", "nosync", "on", ">nosync-pw", "~*", "+@all", "-sync");
        }

        var wrong = await Assert.ThrowsAsync<EcomDrException>(() => RedisSnapshot.RunAsync(_repo.Context, Endpoint(_redis.Port, "snapshot", "wrong-pw"), [], null, null, CancellationToken.None));
        Assert.Equal((ErrorIds.AuthenticationFailed, FailureKind.AuthenticationError), (wrong.ErrorId, wrong.Kind));
        Assert.DoesNotContain("wrong-pw", wrong.Message, StringComparison.Ordinal);

        var denied = await Assert.ThrowsAsync<EcomDrException>(() => RedisSnapshot.RunAsync(_repo.Context, Endpoint(_redis.Port, "nosync", "nosync-pw"), [], null, null, CancellationToken.None));
        Assert.Equal((ErrorIds.PermissionDenied, FailureKind.PermissionDenied), (denied.ErrorId, denied.Kind));
        Assert.Contains("+sync +replconf", denied.Message, StringComparison.Ordinal);

        // A plain Redis takes the TLS hello for an inline command and waits for its newline: the handshake ends at the read timeout.
        var tlsToPlain = Endpoint(_redis.Port, tls: RedisTlsMode.Required) with { ReadTimeout = TimeSpan.FromSeconds(2) };
        var plain = await Assert.ThrowsAsync<EcomDrException>(() => RedisSnapshot.RunAsync(_repo.Context, tlsToPlain, [], null, null, CancellationToken.None));
        Assert.Equal(ErrorIds.ConnectionFailed, plain.ErrorId);
        Assert.Contains("TLS handshake failed", plain.Message, StringComparison.Ordinal);

        Assert.False(Directory.Exists(_repo.Store.Root) && Directory.EnumerateFiles(_repo.Store.Root, "*", SearchOption.AllDirectories).Any());

        // The least-privileged user takes a complete snapshot.
        var taken = await RedisSnapshot.RunAsync(_repo.Context, Endpoint(_redis.Port, "snapshot", "right-pw"), [], null, null, CancellationToken.None);
        Assert.Equal(BackupStatus.Complete, taken.Backup.Status);
    }
}
