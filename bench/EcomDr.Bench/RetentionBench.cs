using System.Diagnostics;
using System.Text.Json;
using EcomDr.Engine.Config;
using EcomDr.Engine.Operations.Retention;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Pipeline.Storage;

/// <summary>
/// Retention planning over a big catalog: seeds a store with signed, sealed manifests of daily full
/// backups and binlog segments (one chain, contiguous, stamped through the clock seam over a year),
/// then times RetentionPlanner.PlanAsync: cold (no catalog index: list, then read, verify and open every
/// manifest) and warm (list, then one read of the index the cold run left).
/// </summary>
internal static class RetentionBench
{
    public static async Task<int> RunAsync(IObjectStore store, string keyFile, int fulls, int segments, string phase)
    {
        using var key = File.Exists(keyFile) ? LocalKeyFile.Load(keyFile) : LocalKeyFile.Create(keyFile);
        var trust = new TrustedKeys();
        trust.Add(key);
        var clock = new BenchClock { Now = DateTimeOffset.UtcNow.AddDays(-365) };
        var context = new RepositoryContext(store, "bench", new IKeyProvider[] { key }, trust, key, Clock: clock);
        var timer = Stopwatch.StartNew();
        RetentionPlan? plan = null;
        switch (phase)
        {
            case "seed":
                await SeedAsync(context, clock, fulls, segments);
                break;
            case "cold":
                if (await store.StatAsync(RepositoryLayout.CatalogIndexKey(context.Environment), CancellationToken.None) is not null)
                {
                    await store.DeleteAsync(RepositoryLayout.CatalogIndexKey(context.Environment), CancellationToken.None);
                }

                clock.Now = DateTimeOffset.UtcNow;
                plan = await RetentionPlanner.PlanAsync(context, ConfigDefaults.Retention, CancellationToken.None);
                timer.Stop();
                // What a retention run leaves for the next one (it removes nothing here).
                await CatalogIndex.WriteAsync(context, plan.Decisions.Select(d => d.Backup), CancellationToken.None);
                break;
            case "warm":
                clock.Now = DateTimeOffset.UtcNow;
                plan = await RetentionPlanner.PlanAsync(context, ConfigDefaults.Retention, CancellationToken.None);
                break;
            default:
                throw new ArgumentException($"phase '{phase}': seed, cold or warm");
        }

        timer.Stop();
        using var self = Process.GetCurrentProcess();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            store = store.Location,
            phase,
            backups = plan?.Decisions.Count ?? fulls + segments,
            kept = plan?.Kept.Count(),
            expired = plan?.Expired.Count(),
            seconds = timer.Elapsed.TotalSeconds,
            peakWorkingSetMB = self.PeakWorkingSet64 / 1e6,
        }));
        return 0;
    }

    // A year: the fulls spread evenly, the segments between them, each full's coordinates inside a segment.
    private static async Task SeedAsync(RepositoryContext context, BenchClock clock, int fulls, int segments)
    {
        var start = clock.Now;
        var step = TimeSpan.FromDays(365) / segments;
        var perFull = Math.Max(1, segments / Math.Max(1, fulls));
        await using var segmentLock = await RepositoryLock.AcquireAsync(context.Store, context.Environment, BackupKinds.MySqlBinlog, "bench", TimeSpan.FromMinutes(10), CancellationToken.None);
        await using var fullLock = await RepositoryLock.AcquireAsync(context.Store, context.Environment, BackupKinds.MySqlFull, "bench", TimeSpan.FromMinutes(10), CancellationToken.None);
        var written = 0;
        for (var i = 0; i < segments; i++)
        {
            clock.Now = start + step * i;
            var file = $"binlog.{i / 100 + 1:D6}";
            var offset = i % 100 * 1000L;
            var segment = BackupWriter.BeginUnder(context, segmentLock, BackupKinds.MySqlBinlog, null);
            segment.Source["chainId"] = "bench";
            segment.Source["sequence"] = i + 1;
            segment.Source["binlogFile"] = file;
            segment.Source["startOffset"] = offset;
            segment.Source["binlogPosition"] = offset + 1000;
            segment.Source["partial"] = false;
            segment.Source["nextFile"] = i % 100 == 99 ? $"binlog.{i / 100 + 2:D6}" : null;
            segment.Source["lastEventTime"] = clock.Now.ToString("O");
            segment.Source["server"] = "db1.shop.internal:3306";
            await segment.CompleteAsync(CancellationToken.None);
            if (i % perFull == perFull / 2 && written < fulls)
            {
                var full = BackupWriter.BeginUnder(context, fullLock, BackupKinds.MySqlFull, null);
                full.Source["binlogFile"] = file;
                full.Source["binlogPosition"] = offset + 500;
                full.Stats["tables"] = new System.Text.Json.Nodes.JsonObject { ["shop.orders"] = 123456 };
                await full.CompleteAsync(CancellationToken.None);
                written++;
            }
        }
    }

    private sealed class BenchClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
