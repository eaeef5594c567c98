using System.Diagnostics;
using System.Text.Json;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Pipeline.Storage;
using EcomDr.Engine.Sources.Redis;

/// <summary>
/// Redis snapshot benchmarks: the snapshot job (fetch over SYNC, read through, zstd, AES-256-GCM,
/// SHA-256, signed manifest, file-system store), and listing the keys of the stored snapshot.
/// </summary>
internal static class RedisBench
{
    public static async Task<int> SnapshotAsync(int port, string repo, string keyFile)
    {
        var (context, key) = Context(repo, keyFile);
        using (key)
        {
            var endpoint = new RedisEndpoint("127.0.0.1", port, EcomDr.Engine.Config.RedisTlsMode.None, null, null, null, TimeSpan.FromSeconds(300));
            var clock = Stopwatch.StartNew();
            var result = await RedisSnapshot.RunAsync(context, endpoint, [], null, null, CancellationToken.None);
            clock.Stop();
            Print(new { seconds = clock.Elapsed.TotalSeconds, rdbBytes = result.Rdb.Bytes, keys = result.Rdb.Keys, storedBytes = result.Backup.Size, id = result.Backup.Id });
        }

        return 0;
    }

    public static async Task<int> KeysAsync(string repo, string keyFile)
    {
        var (context, key) = Context(repo, keyFile);
        using (key)
        {
            var backup = await RedisSnapshotKeys.FindAsync(context, null, CancellationToken.None);
            var clock = Stopwatch.StartNew();
            long keys = 0, lengths = 0;
            await foreach (var k in RedisSnapshotKeys.ListAsync(context, backup, null, false, CancellationToken.None))
            {
                keys++;
                lengths += k.Length ?? 0;
            }

            clock.Stop();
            Print(new { seconds = clock.Elapsed.TotalSeconds, keys, keysPerSecond = keys / clock.Elapsed.TotalSeconds, lengths });
        }

        return 0;
    }

    private static (RepositoryContext Context, LocalKeyFile Key) Context(string repo, string keyFile)
    {
        var key = File.Exists(keyFile) ? LocalKeyFile.Load(keyFile) : LocalKeyFile.Create(keyFile);
        var trust = new TrustedKeys();
        trust.Add(key);
        return (new RepositoryContext(new FileSystemStore("bench", repo), "bench", new IKeyProvider[] { key }, trust, key), key);
    }

    private static void Print(object figures)
    {
        using var self = Process.GetCurrentProcess();
        var json = JsonSerializer.SerializeToNode(figures)!.AsObject();
        json["peakWorkingSetMB"] = self.PeakWorkingSet64 / 1e6;
        Console.WriteLine(json.ToJsonString());
    }
}
