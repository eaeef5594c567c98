using System.Diagnostics;
using System.Text.Json;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Pitr;
using EcomDr.Engine.Credentials;

/// <summary>Native replay of the shipped binlog (what Restore-MySqlPitr runs after the full restore), timed.</summary>
internal static class ReplayBench
{
    /// <summary>Threads 1 replays serially; a stop of file:position ends there (else the end of the shipped binlog).</summary>
    public static async Task<int> RunAsync(int port, string repo, string file, long position, int threads, string? stop)
    {
        var context = RpoBench.Context(repo);
        var chain = (await BinlogChain.LoadAsync(context, CancellationToken.None)).Current;
        var target = new MySqlEndpoint("127.0.0.1", port, "root", Secret.Empty, "None");
        var clock = Stopwatch.StartNew();
        var result = await BinlogReplayer.ReplayAsync(target, SegmentEvents.ReadAsync(context, chain, file, position, CancellationToken.None),
            new ReplayOptions(ThreadCount: threads, StopAtPosition: stop is null ? null : BinlogCoordinate.Parse(stop, "stop", "bench")), null, CancellationToken.None);
        clock.Stop();
        using var self = Process.GetCurrentProcess();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            seconds = Math.Round(clock.Elapsed.TotalSeconds, 2),
            transactions = result.Transactions,
            events = result.Events,
            lastGtid = result.LastGtid,
            threads = result.Threads,
            concurrency = result.AverageConcurrency,
            retries = result.Retries,
            peakMB = self.PeakWorkingSet64 >> 20,
        }));
        return 0;
    }
}
