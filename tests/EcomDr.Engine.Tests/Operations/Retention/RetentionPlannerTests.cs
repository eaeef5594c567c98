using EcomDr.Engine.Config;
using EcomDr.Engine.Operations.Retention;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Tests.Pipeline.Repository;

namespace EcomDr.Engine.Tests.Operations.Retention;

/// <summary>
/// Retention over 20 simulated days on a real file-system repository, the backups stamped through the
/// engine's clock seam: a daily full backup and a binlog segment every 6 hours, retention run each
/// evening with the plan's defaults. After every run the whole window is still recoverable (the chain
/// from the window's base has no break), nothing outside it is kept without a reason, holds keep a
/// backup and its chain until released.
/// </summary>
public sealed class RetentionPlannerTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly RepoFixture _repo = new();
    private readonly ManualClock _clock = new(Start);
    private long _sequence;

    public RetentionPlannerTests() => _repo.Context = _repo.Context with { Clock = _clock };

    public void Dispose() => _repo.Dispose();

    private static string FileOf(int day) => $"binlog.{day + 1:D6}";

    // Day d: segments of binlog.<d+1> at 00, 06, 12 and 18 h ([0,1000) ... [3000,4000), the last one rotating), a full backup at 01 h inside the second.
    private async Task SimulateDayAsync(int day)
    {
        for (var quarter = 0; quarter < 4; quarter++)
        {
            _clock.Now = Start.AddDays(day).AddHours(quarter * 6);
            await SegmentAsync(FileOf(day), quarter * 1000, (quarter + 1) * 1000, quarter == 3 ? FileOf(day + 1) : null);
            if (quarter == 1)
            {
                _clock.Now = Start.AddDays(day).AddHours(7);
                await FullAsync(FileOf(day), 1500);
            }
        }
    }

    private async Task SegmentAsync(string file, long from, long to, string? next)
    {
        await using var writer = await BackupWriter.BeginAsync(_repo.Context, BackupKinds.MySqlBinlog, null, CancellationToken.None);
        writer.Source["chainId"] = "c1";
        writer.Source["sequence"] = ++_sequence;
        writer.Source["binlogFile"] = file;
        writer.Source["startOffset"] = from;
        writer.Source["binlogPosition"] = to;
        writer.Source["partial"] = next is null;
        writer.Source["nextFile"] = next;
        writer.Source["lastEventTime"] = _clock.Now.ToString("O");
        await writer.AddArtifactAsync($"{file}.{from:D12}", (s, ct) => s.WriteAsync(new byte[16], ct).AsTask(), CancellationToken.None);
        await writer.CompleteAsync(CancellationToken.None);
    }

    private async Task<BackupInfo> FullAsync(string file, long position)
    {
        await using var writer = await BackupWriter.BeginAsync(_repo.Context, BackupKinds.MySqlFull, null, CancellationToken.None);
        writer.Source["binlogFile"] = file;
        writer.Source["binlogPosition"] = position;
        await writer.AddArtifactAsync("schema/shop.tables.sql", (s, ct) => s.WriteAsync(new byte[64], ct).AsTask(), CancellationToken.None);
        return await writer.CompleteAsync(CancellationToken.None);
    }

    private async Task<RetentionPlan> RunAsync(RetentionConfig policy)
    {
        await using var run = await RetentionRun.BeginAsync(_repo.Context, policy, CancellationToken.None);
        Assert.Empty(await run.RemoveAllAsync(run.Plan.Expired, CancellationToken.None));
        Assert.Null(run.IndexProblem);
        return run.Plan;
    }

    [Fact]
    public async Task Twenty_days_keep_exactly_the_window_and_its_base_and_the_chain_never_breaks()
    {
        var policy = ConfigDefaults.Retention;
        var expiredSoFar = 0;
        for (var day = 0; day < 20; day++)
        {
            await SimulateDayAsync(day);
            _clock.Now = Start.AddDays(day).AddHours(23);
            var plan = await RunAsync(policy);
            expiredSoFar += plan.Expired.Count();
            Assert.All(plan.Decisions, d => Assert.NotEmpty(d.Reasons));

            // The index the run left stands for exactly the complete backups that remain; the next day plans from it.
            var index = await CatalogIndex.OpenAsync(_repo.Context, CancellationToken.None);
            Assert.Null(index.Problem);
            var remaining = (await BackupCatalog.ListAsync(_repo.Context, null, CancellationToken.None)).Where(b => b.Status == BackupStatus.Complete).Select(b => (b.Kind, b.Id));
            Assert.Equal(remaining.Order(), index.Entries().Select(e => (e.Kind, e.Id)).Order());

            var now = _clock.Now;
            var windowStart = now.AddDays(-7);
            var fulls = (await BackupCatalog.ListAsync(_repo.Context, BackupKinds.MySqlFull, CancellationToken.None)).OrderBy(b => b.Created).ToList();
            var chain = await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None);

            // The base: the newest full completed at or before the window's start (from day 8 on), else the oldest there is.
            var expectedBase = fulls.LastOrDefault(f => f.Completed <= windowStart);
            var baseFull = expectedBase ?? fulls[0];
            if (day >= 7)
            {
                Assert.NotNull(expectedBase);
                Assert.Equal(Start.AddDays(day - 7).AddHours(7), expectedBase!.Created);
            }

            // Kept fulls: the base and those of the last 7 days, nothing older.
            Assert.All(fulls, f => Assert.True(f.Created >= baseFull.Created, $"day {day}: full {f.Created:u} older than the base {baseFull.Created:u} was kept"));
            Assert.Equal(Math.Min(day + 1, 8), fulls.Count);

            // Every point from the base on replays: the chain from the base's coordinates has no break and reaches the newest segment.
            var at = BinlogChain.CoordinateOf(baseFull)!.Value;
            var (covering, breaks) = chain.From(at.File, at.Position);
            Assert.Empty(breaks);
            Assert.Equal(chain.Newest!.Id, covering[^1].Id);

            // Replay reads the base's file from its first segment (its FORMAT_DESCRIPTION): that one is kept, nothing before it,
            // unless it is younger than the window (never expired by age).
            var first = Assert.Single(chain.Segments, s => s.File == at.File && s.StartOffset == 0);
            Assert.All(chain.Segments, s => Assert.True(s.Sequence >= first.Sequence || s.Completed >= windowStart, $"day {day}: segment {s} before the base's file was kept"));
        }

        Assert.True(expiredSoFar > 40, $"only {expiredSoFar} backups expired in 20 days");
    }

    [Fact]
    public async Task A_hold_keeps_a_full_backup_and_its_chain_until_released()
    {
        BackupInfo? held = null;
        for (var day = 0; day < 12; day++)
        {
            await SimulateDayAsync(day);
            if (day == 1)
            {
                held = (await BackupCatalog.ListAsync(_repo.Context, BackupKinds.MySqlFull, CancellationToken.None)).Single(b => b.Created.Day == 2);
                await BackupHolds.SetAsync(_repo.Context, held, "OPS-123 forensic copy", CancellationToken.None);
            }
        }

        _clock.Now = Start.AddDays(11).AddHours(23);
        var plan = await RunAsync(ConfigDefaults.Retention);
        var decision = plan.Decisions.Single(d => d.Id == held!.Id);
        Assert.True(decision.Keep);
        Assert.Contains("hold: OPS-123 forensic copy", decision.Reasons);
        var chain = await BinlogChain.LoadAsync(_repo.Context, CancellationToken.None);
        var at = BinlogChain.CoordinateOf(held!)!.Value;
        Assert.Empty(chain.From(at.File, at.Position).Breaks);
        Assert.Contains(plan.Decisions, d => d.Reasons.Contains($"needed by the chain of {held!.Id}"));

        Assert.True(await BackupHolds.ReleaseAsync(_repo.Context, held!.Id, CancellationToken.None));
        plan = await RunAsync(ConfigDefaults.Retention);
        Assert.False(plan.Decisions.Single(d => d.Id == held.Id).Keep);
        Assert.DoesNotContain(await BackupCatalog.ListAsync(_repo.Context, null, CancellationToken.None), b => b.Id == held.Id);
    }

    [Fact]
    public async Task The_last_full_backup_and_its_chain_stay_whatever_their_age_and_a_store_may_keep_longer()
    {
        await SimulateDayAsync(0);
        _clock.Now = Start.AddDays(60);
        var plan = await RunAsync(ConfigDefaults.Retention);
        Assert.All(plan.Decisions.Where(d => d.Kind == BackupKinds.MySqlFull), d => Assert.Contains("newest complete full backup", d.Reasons));
        var full = plan.Decisions.Single(d => d.Kind == BackupKinds.MySqlFull);
        Assert.All(plan.Decisions.Where(d => d.Kind == BackupKinds.MySqlBinlog && d.Keep), d => Assert.Contains($"needed by the chain of {full.Id}", d.Reasons));
        // The segment before the full backup's coordinates starts its file, which replay reads first: it stays too.
        Assert.DoesNotContain(plan.Expired, d => d.Kind == BackupKinds.MySqlBinlog);

        var longer = ConfigDefaults.Retention with
        {
            Stores = new Dictionary<string, StoreRetention> { ["primary"] = new(5, new Dictionary<string, KindRetention> { [BackupKinds.MySqlBinlog] = new(90) }) },
        };
        var stretched = RetentionPlanner.Plan("prod", "primary", await BackupCatalog.ListAsync(_repo.Context, null, CancellationToken.None),
            new Dictionary<string, BackupHold>(), longer.ForStore("primary"), _clock.Now);
        Assert.Empty(stretched.Expired);
        Assert.Equal(5, longer.ForStore("primary").MinFull);
        Assert.Equal(2, longer.ForStore("offsite").MinFull);
    }

    [Fact]
    public async Task Gfs_keeps_the_newest_of_each_day_week_and_month_and_says_which()
    {
        for (var day = 0; day < 70; day++)
        {
            _clock.Now = Start.AddDays(day).AddHours(3);
            await _repo.BackupAsync(BackupKinds.Docs, ("adr.md", new byte[8]));
            _clock.Now = Start.AddDays(day).AddHours(9);
            await _repo.BackupAsync(BackupKinds.Docs, ("adr.md", new byte[8]));
        }

        _clock.Now = Start.AddDays(69).AddHours(12);
        var policy = ConfigDefaults.Retention with
        {
            Kinds = new Dictionary<string, KindRetention>(ConfigDefaults.Retention.Kinds) { [BackupKinds.Docs] = new(2, new GfsRetention(3, 2, 3)) },
        };
        var plan = await RunAsync(policy);
        var kept = plan.Kept.ToList();
        // 2 days: 4 backups (days 68 and 69, 03 and 09 h); day tier: the 09 h one of days 67-69; weeks: this one and the last; months: Jan, Dec, Nov.
        Assert.Contains(kept, d => d.Created == Start.AddDays(67).AddHours(9) && d.Reasons.Contains("GFS day 2027-01-07"));
        Assert.Contains(kept, d => d.Reasons.Contains("GFS month 2026-12") && d.Created == new DateTimeOffset(2026, 12, 31, 9, 0, 0, TimeSpan.Zero));
        Assert.Contains(kept, d => d.Reasons.Contains("GFS month 2026-11") && d.Created == new DateTimeOffset(2026, 11, 30, 9, 0, 0, TimeSpan.Zero));
        Assert.Contains(kept, d => d.Reasons.Any(r => r.StartsWith("GFS week 2027-W01", StringComparison.Ordinal)));
        Assert.DoesNotContain(kept, d => d.Created == Start.AddDays(67).AddHours(3));
        Assert.Equal(4 + 1 + 1 + 2, kept.Count);   // the 2-day window, Jan 7 (day), Jan 3 (the week before), Dec 31 and Nov 30 (months; Jan's newest is in the window)
        Assert.All(plan.Expired, d => Assert.StartsWith("older than 2 day(s)", d.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_backup_a_reader_holds_a_lease_on_is_not_removed_until_the_lease_ends()
    {
        for (var day = 0; day < 10; day++)
        {
            await SimulateDayAsync(day);
        }

        var oldest = (await BackupCatalog.ListAsync(_repo.Context, BackupKinds.MySqlFull, CancellationToken.None))[0];
        var lease = await ReadLease.TakeAsync(_repo.Context, [oldest], "point-in-time recovery from the test", CancellationToken.None);
        Assert.True(lease.Held);
        _clock.Now = Start.AddDays(9).AddHours(23);
        await using (var run = await RetentionRun.BeginAsync(_repo.Context, ConfigDefaults.Retention, CancellationToken.None))
        {
            Assert.False(run.Plan.Decisions.Single(d => d.Id == oldest.Id).Keep);
            foreach (var expired in run.Plan.Expired)
            {
                var heldBy = await run.RemoveAsync(expired, CancellationToken.None);
                Assert.Equal(expired.Id == oldest.Id, heldBy is not null);
                if (heldBy is not null)
                {
                    Assert.Contains("point-in-time recovery from the test", heldBy, StringComparison.Ordinal);
                }
            }
        }

        var still = Assert.Single(await BackupCatalog.ListAsync(_repo.Context, BackupKinds.MySqlFull, CancellationToken.None), b => b.Id == oldest.Id);
        Assert.Equal(BackupStatus.Complete, still.Status);
        Assert.Equal(IntegrityStatus.Passed, (await BackupVerifier.VerifyAsync(_repo.Context, BackupKinds.MySqlFull, oldest.Id, deep: true, null, CancellationToken.None)).Status);

        await lease.DisposeAsync();
        await RunAsync(ConfigDefaults.Retention);
        Assert.DoesNotContain(await BackupCatalog.ListAsync(_repo.Context, null, CancellationToken.None), b => b.Id == oldest.Id);
        var leases = _repo.PathOf("prod/_leases");
        Assert.False(Directory.Exists(leases) && Directory.EnumerateFiles(leases, "*", SearchOption.AllDirectories).Any(), "a released lease is gone");

        // A reader that chose a backup retention has since removed is refused before it reads anything.
        var ex = await Assert.ThrowsAsync<EcomDr.Engine.Errors.EcomDrException>(() => ReadLease.TakeAsync(_repo.Context, [oldest], "late reader", CancellationToken.None));
        Assert.Equal(EcomDr.Engine.Errors.ErrorIds.BackupIncomplete, ex.ErrorId);
    }
}
