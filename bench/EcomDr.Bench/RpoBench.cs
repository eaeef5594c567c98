using System.Diagnostics;
using System.Text.Json;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Pipeline.Storage;
using MySqlConnector;

/// <summary>
/// RPO exposure of Send-Binlog's follow mode: a probe commits a row every 100 ms and notes when each
/// GTID committed; the shipper (the engine Send-Binlog runs) ships meanwhile; afterwards each probe
/// GTID is found in its segment, whose manifest records when it became durable. Exposure = durable
/// time - commit time. Also: one-shot archive throughput (bytes of binlog per second).
/// </summary>
internal static class RpoBench
{
    public static async Task<int> RunAsync(int port, int seconds, int maxLagSeconds, string repo)
    {
        var endpoint = new MySqlEndpoint("127.0.0.1", port, "root", Secret.Empty, "None");
        var context = Context(repo);
        using var stop = new CancellationTokenSource();
        var shipper = Task.Run(() => BinlogShipper.ShipAsync(context, endpoint, new ShipOptions(4242, Follow: true, MaxLag: TimeSpan.FromSeconds(maxLagSeconds)),
            _ => Task.CompletedTask, null, stop.Token));
        await Task.Delay(2000);

        var commits = new List<(ulong Seq, DateTimeOffset At)>();
        await using (var c = new MySqlConnection($"Server=127.0.0.1;Port={port};User ID=root;SslMode=None"))
        {
            await c.OpenAsync();
            await new MySqlCommand("CREATE DATABASE IF NOT EXISTS probe; CREATE TABLE IF NOT EXISTS probe.t (id BIGINT AUTO_INCREMENT PRIMARY KEY, at DATETIME(6))", c).ExecuteNonQueryAsync();
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                await new MySqlCommand("INSERT INTO probe.t (at) VALUES (NOW(6))", c).ExecuteNonQueryAsync();
                var at = DateTimeOffset.UtcNow;
                var gtid = Convert.ToString(await new MySqlCommand("SELECT @@last_gtid", c).ExecuteScalarAsync())!;
                commits.Add((ulong.Parse(gtid.Split('-')[2]), at));
                await Task.Delay(100);
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(maxLagSeconds + 5)); // let the last probe rows ship
        stop.Cancel();
        try
        {
            await shipper;
        }
        catch (OperationCanceledException)
        {
        }

        var segments = (await BinlogChain.LoadAsync(context, CancellationToken.None)).Current.Where(s => s.FirstGtid.Length > 0).ToList();
        var exposures = new List<double>();
        foreach (var (seq, at) in commits)
        {
            var segment = segments.FirstOrDefault(s => Seq(s.FirstGtid) <= seq && seq <= Seq(s.LastGtid));
            if (segment?.Completed is { } durable)
            {
                exposures.Add((durable - at).TotalSeconds);
            }
        }

        exposures.Sort();
        double P(double q) => exposures.Count == 0 ? double.NaN : exposures[Math.Min(exposures.Count - 1, (int)Math.Ceiling(q * exposures.Count) - 1)];
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            maxLag = maxLagSeconds,
            probes = commits.Count,
            shipped = exposures.Count,
            segments = segments.Count,
            p50 = Math.Round(P(0.50), 2),
            p90 = Math.Round(P(0.90), 2),
            p99 = Math.Round(P(0.99), 2),
            max = Math.Round(exposures.LastOrDefault(), 2),
        }));
        return exposures.Count == commits.Count ? 0 : 1;
    }

    /// <summary>One-shot shipping of everything the server has, timed.</summary>
    public static async Task<int> ThroughputAsync(int port, string repo)
    {
        var endpoint = new MySqlEndpoint("127.0.0.1", port, "root", Secret.Empty, "None");
        var context = Context(repo);
        long bytes = 0;
        var clock = Stopwatch.StartNew();
        await BinlogShipper.ShipAsync(context, endpoint, new ShipOptions(4243, MaxSegmentBytes: 256L << 20), s =>
        {
            bytes += s.Bytes;
            return Task.CompletedTask;
        }, null, CancellationToken.None);
        clock.Stop();
        using var self = Process.GetCurrentProcess();
        Console.WriteLine(JsonSerializer.Serialize(new { bytes, seconds = Math.Round(clock.Elapsed.TotalSeconds, 2), peakMB = self.PeakWorkingSet64 >> 20 }));
        return 0;
    }

    private static ulong Seq(string mariaGtid) => ulong.Parse(mariaGtid.Split('-')[2]);

    internal static RepositoryContext Context(string repo)
    {
        Directory.CreateDirectory(repo);
        var keyPath = Path.Join(repo, "bench.key");
        var key = File.Exists(keyPath) ? LocalKeyFile.Load(keyPath) : LocalKeyFile.Create(keyPath);
        var trust = new TrustedKeys();
        trust.Add(key);
        return new RepositoryContext(new FileSystemStore("bench", Path.Join(repo, "store")), "bench", new IKeyProvider[] { key }, trust, key, new ArtifactOptions());
    }
}
