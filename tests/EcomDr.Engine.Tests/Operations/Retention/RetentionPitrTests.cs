using EcomDr.Engine.Config;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Operations.Retention;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Pitr;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.TestKit.Differential;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Operations.Retention;

/// <summary>
/// The window's promise on a real MariaDB, in a file-system store and in s3rver: ten simulated days
/// of a daily full backup, writes and shipped binlog, stamped through the engine's clock; retention
/// runs each evening from day 7 on, and after each run a real point-in-time recovery to the oldest
/// point of the window (right after its base full backup, before the next write) and one from the base
/// to the newest give exactly the source's state. On day 8 a recovery from a backup that run expires
/// is in progress while retention runs: its lease keeps what it reads, and it finishes exactly.
/// </summary>
public sealed class RetentionPitrTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private MariaDbServer _source = null!;
    private MariaDbServer _target = null!;
    private RepoFixture _repo = null!;
    private S3rverServer _s3 = null!;
    private readonly Clock _clock = new();

    public async Task InitializeAsync()
    {
        _source = await MariaDbServer.StartAsync();
        _target = await MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 7, GtidDomainId = 7 });
        _s3 = await S3rverServer.StartAsync("retention");
        _repo = new RepoFixture(frameSize: 1 << 16);
        _repo.Context = _repo.Context with { Clock = _clock };
        await _source.ExecuteAsync(StatementCorpus.Setup);
    }

    public async Task DisposeAsync()
    {
        _repo.Dispose();
        await _s3.DisposeAsync();
        await _target.DisposeAsync();
        await _source.DisposeAsync();
    }

    private static MySqlEndpoint Root(MariaDbServer server) => new("127.0.0.1", server.Port, "root", Secret.Empty, "None");

    [Theory]
    [InlineData("filesystem")]
    [InlineData("s3rver")]
    public async Task After_each_run_the_oldest_and_the_newest_point_of_the_window_restore_exactly(string storeKind)
    {
        if (storeKind == "s3rver")
        {
            var client = EcomDr.Engine.Pipeline.Storage.S3ObjectStore.CreateClient(_s3.Endpoint, "us-east-1", true,
                new Amazon.Runtime.BasicAWSCredentials(S3rverServer.AccessKey, S3rverServer.SecretKey));
            _repo.Context = _repo.Context.WithStore(new EcomDr.Engine.Pipeline.Storage.S3ObjectStore("primary", client, "retention", "prod-site"));
        }

        // What the source held right after each day's full backup, and the GTID of the first write after it.
        var afterFull = new Dictionary<int, (SchemaState State, string NextGtid)>();
        for (var day = 0; day < 10; day++)
        {
            _clock.Now = Start.AddDays(day).AddHours(7);
            await MySqlDumper.RunAsync(_repo.Context, Root(_source), new DumpOptions([StatementCorpus.Schema], ThreadCount: 1), null, CancellationToken.None);
            var state = await SchemaState.ReadAsync(_source.RootConnectionString, StatementCorpus.Schema);
            string? next = null;
            for (var i = 0; i < 3; i++)
            {
                await _source.ExecuteAsync($"INSERT INTO shop.t VALUES ({1000 + day * 10 + i}, 'day {day} write {i}', {day})");
                next ??= Convert.ToString(await _source.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos"))!;
            }

            afterFull[day] = (state, next!);
            _clock.Now = Start.AddDays(day).AddHours(12);
            await BinlogShipper.ShipAsync(_repo.Context, Root(_source), new ShipOptions(4242, Rotate: true), _ => Task.CompletedTask, null, CancellationToken.None);
            if (day < 7)
            {
                continue;
            }

            _clock.Now = Start.AddDays(day).AddHours(23);
            var expected = await SchemaState.ReadAsync(_source.RootConnectionString, StatementCorpus.Schema);
            var doomed = (await BackupCatalog.ListAsync(_repo.Context, BackupKinds.MySqlFull, CancellationToken.None)).OrderBy(b => b.Created).First();
            Task<PitrResult>? reading = null;
            var restored = new TaskCompletionSource();
            var resume = new TaskCompletionSource();
            if (day == 8)
            {
                // A recovery from the oldest full backup, which tonight's run expires, waits between its full restore and its replay.
                await _target.ResetAsync();
                var from = await PitrRestorer.PlanAsync(_repo.Context, new PitrOptions(BackupId: doomed.Id), CancellationToken.None);
                reading = PitrRestorer.RunAsync(_repo.Context, from, Root(_target), null, null, CancellationToken.None, async ct =>
                {
                    restored.SetResult();
                    await resume.Task.WaitAsync(ct);
                });
                await restored.Task.WaitAsync(TimeSpan.FromMinutes(2));
            }

            var held = new List<string>();
            await using (var run = await RetentionRun.BeginAsync(_repo.Context, ConfigDefaults.Retention, CancellationToken.None))
            {
                foreach (var expired in run.Plan.Expired)
                {
                    if (await run.RemoveAsync(expired, CancellationToken.None) is not null)
                    {
                        held.Add(expired.Id);
                    }
                }

                if (reading is not null)
                {
                    Assert.False(run.Plan.Decisions.Single(d => d.Id == doomed.Id).Keep);
                }
            }

            if (reading is not null)
            {
                // What the recovery reads was kept; released, it replays through it to exactly the source's state.
                Assert.Contains(doomed.Id, held);
                resume.SetResult();
                await reading;
                Assert.Empty(expected.Differences(await SchemaState.ReadAsync(_target.RootConnectionString, StatementCorpus.Schema)));
                await using var again = await RetentionRun.BeginAsync(_repo.Context, ConfigDefaults.Retention, CancellationToken.None);
                foreach (var expired in again.Plan.Expired)
                {
                    Assert.Null(await again.RemoveAsync(expired, CancellationToken.None));
                }
            }
            else
            {
                Assert.Empty(held);
            }

            // The base of the 7-day window: the full backup of day - 7; nothing older is left.
            var fulls = (await BackupCatalog.ListAsync(_repo.Context, BackupKinds.MySqlFull, CancellationToken.None)).OrderBy(b => b.Created).ToList();
            Assert.Equal(Start.AddDays(day - 7).AddHours(7), fulls[0].Created);

            // The oldest point: the base's snapshot, right before the first write after it.
            var oldest = afterFull[day - 7];
            await _target.ResetAsync();
            var plan = await PitrRestorer.PlanAsync(_repo.Context, new PitrOptions(StopBeforeGtid: oldest.NextGtid), CancellationToken.None);
            Assert.Equal(fulls[0].Id, plan.Backup.Id);
            await PitrRestorer.RunAsync(_repo.Context, plan, Root(_target), null, null, CancellationToken.None);
            Assert.Empty(oldest.State.Differences(await SchemaState.ReadAsync(_target.RootConnectionString, StatementCorpus.Schema)));

            // The newest point, from the base: every segment of the window is still there and replays.
            await _target.ResetAsync();
            var latest = await PitrRestorer.PlanAsync(_repo.Context, new PitrOptions(BackupId: fulls[0].Id), CancellationToken.None);
            Assert.True(latest.Segments.Count >= 7, $"{latest.Segments.Count} segment(s) from the base");
            var result = await PitrRestorer.RunAsync(_repo.Context, latest, Root(_target), null, null, CancellationToken.None);
            Assert.Equal(24L, result.Transactions);   // three writes a day: the base's own day and the seven since
            var source = await SchemaState.ReadAsync(_source.RootConnectionString, StatementCorpus.Schema);
            Assert.Empty(source.Differences(await SchemaState.ReadAsync(_target.RootConnectionString, StatementCorpus.Schema)));
        }
    }

    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = Start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
