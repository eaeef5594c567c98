using EcomDr.Engine.Config;
using EcomDr.Engine.Operations.Retention;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Snapshots;
using EcomDr.Engine.Tests.Pipeline.Repository;

namespace EcomDr.Engine.Tests.Operations.Retention;

/// <summary>
/// Retention of mysql-snapshot backups (28 days by default) on a real file-system repository, with the
/// directory provider's real folders and the command provider's real scripts: an expired backup's
/// snapshots and offsite copies are deleted before its manifest; a provider delete that fails keeps the
/// backup whole and marks it for a retry, which the next run makes; a provider that is not configured
/// deletes nothing and loses nothing.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SnapshotRetentionTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly RepoFixture _repo = new();
    private readonly ManualClock _clock = new(Start);
    private readonly string _dir = Directory.CreateTempSubdirectory("ecomdr-snapret-").FullName;

    public SnapshotRetentionTests() => _repo.Context = _repo.Context with { Clock = _clock };

    public void Dispose()
    {
        _repo.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A weekly snapshot as Invoke-MySqlVolumeSnapshot records it, its folders made by the directory provider.</summary>
    private async Task<BackupInfo> WeeklyAsync(int week, DirectorySnapshotProvider provider)
    {
        _clock.Now = Start.AddDays(7 * week);
        var data = Directory.CreateDirectory(Path.Join(_dir, "datadir")).FullName;
        File.WriteAllText(Path.Join(data, "ibdata1"), $"week {week}");
        await using var writer = await BackupWriter.BeginAsync(_repo.Context, BackupKinds.MySqlSnapshot, null, CancellationToken.None);
        var taken = await provider.TakeAsync(new SnapshotRequest(writer.Id, data, new Dictionary<string, string>()), CancellationToken.None);
        var copy = await provider.CopyAsync(taken, CancellationToken.None);
        writer.Source["binlogFile"] = "binlog.000001";
        writer.Source["binlogPosition"] = 4 + week;
        writer.Source["snapshot"] = SnapshotRecord.ToJson(taken, copy);
        return await writer.CompleteAsync(CancellationToken.None);
    }

    private async Task<(RetentionRun Run, IReadOnlyList<(RetentionDecision Decision, string Why)> Kept)> RetainAsync(ISnapshotProvider? provider)
    {
        var run = await RetentionRun.BeginAsync(_repo.Context, ConfigDefaults.Retention, CancellationToken.None, provider);
        var kept = await run.RemoveAllAsync(run.Plan.Expired, CancellationToken.None);
        return (run, kept);
    }

    private async Task<List<string>> SnapshotIdsAsync() =>
        (await BackupCatalog.ListAsync(_repo.Context, BackupKinds.MySqlSnapshot, CancellationToken.None)).Where(b => b.Status == BackupStatus.Complete).Select(b => b.Id).ToList();

    [Fact]
    public async Task AnExpiredSnapshotGoesWithItsProviderSnapshotsAndCopies()
    {
        var provider = new DirectorySnapshotProvider(new DirectoryProviderOptions(Path.Join(_dir, "snapshots"), Path.Join(_dir, "offsite")));
        var backups = new List<BackupInfo>();
        for (var week = 0; week < 6; week++)
        {
            backups.Add(await WeeklyAsync(week, provider));
        }

        _clock.Now = Start.AddDays(7 * 5 + 1); // weeks 0 and 1 are past 28 days
        var (run, kept) = await RetainAsync(provider);
        await using (run)
        {
            Assert.Empty(kept);
            Assert.Equal(0, run.SnapshotDeleteFailures);
        }

        Assert.Equal(backups.Skip(2).Select(b => b.Id), await SnapshotIdsAsync());
        foreach (var (backup, i) in backups.Select((b, i) => (b, i)))
        {
            Assert.Equal(i >= 2, Directory.Exists(Path.Join(_dir, "snapshots", backup.Id)));
            Assert.Equal(i >= 2, Directory.Exists(Path.Join(_dir, "offsite", backup.Id)));
        }
    }

    [Fact]
    public async Task AFailedProviderDeleteKeepsTheBackupWholeAndTheNextRunRetriesIt()
    {
        var provider = new DirectorySnapshotProvider(new DirectoryProviderOptions(Path.Join(_dir, "snapshots")));
        var old = await WeeklyAsync(0, provider);
        for (var week = 1; week < 5; week++)
        {
            await WeeklyAsync(week, provider);
        }

        _clock.Now = Start.AddDays(29); // only week 0 is past 28 days
        // A command provider (the same snapshots, deleted by a script) that fails the first time.
        var log = Path.Join(_dir, "delete.log");
        var script = Path.Join(_dir, "delete.sh");
        File.WriteAllText(script, $"#!/bin/bash\necho \"$ECOMDR_SNAPSHOT_IDS\" >> '{log}'\n" +
            $"if [ ! -e '{_dir}/allow' ]; then echo 'InvalidSnapshot.InUse: snapshot is in use by ami-0abc' >&2; exit 1; fi\nfor id in $ECOMDR_SNAPSHOT_IDS; do rm -rf '{_dir}/snapshots/'\"$id\"; done\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var failing = new RecordedAs("directory", new CommandSnapshotProvider(new CommandProviderOptions(["/bin/true"], [script])));

        var (run, kept) = await RetainAsync(failing);
        await using (run)
        {
            var (decision, why) = Assert.Single(kept);
            Assert.Equal(old.Id, decision.Id);
            Assert.Contains("InvalidSnapshot.InUse", why, StringComparison.Ordinal);
            Assert.Contains("marked for a retry", why, StringComparison.Ordinal);
            Assert.Equal(1, run.SnapshotDeleteFailures);
            Assert.Equal(1.0, (await run.FiguresAsync(CancellationToken.None))[Engine.Operations.Telemetry.MetricNames.SnapshotDeleteFailures]);
        }

        // Whole: the manifest, its verification, the snapshot folder; and marked.
        Assert.Contains(old.Id, await SnapshotIdsAsync());
        Assert.Equal(IntegrityStatus.Passed, (await BackupVerifier.VerifyAsync(_repo.Context, BackupKinds.MySqlSnapshot, old.Id, deep: true, null, CancellationToken.None)).Status);
        Assert.True(Directory.Exists(Path.Join(_dir, "snapshots", old.Id)));
        var mark = Assert.Single(await SnapshotExpiry.PendingAsync(_repo.Context, CancellationToken.None));
        Assert.Equal((old.Id, 1), (mark.Id, mark.Attempts));
        Assert.Contains("InvalidSnapshot.InUse", mark.Error, StringComparison.Ordinal);

        // Not configured at all: nothing is deleted, nothing is lost, the mark counts the attempt.
        (run, kept) = await RetainAsync(null);
        await using (run)
        {
            Assert.Contains("no volumeSnapshot provider is configured", Assert.Single(kept).Why, StringComparison.Ordinal);
        }

        Assert.Equal(2, Assert.Single(await SnapshotExpiry.PendingAsync(_repo.Context, CancellationToken.None)).Attempts);

        // The provider works again: the retry deletes the snapshot, then the backup, then the mark.
        File.WriteAllText(Path.Join(_dir, "allow"), "");
        (run, kept) = await RetainAsync(failing);
        await using (run)
        {
            Assert.Empty(kept);
        }

        Assert.DoesNotContain(old.Id, await SnapshotIdsAsync());
        Assert.False(Directory.Exists(Path.Join(_dir, "snapshots", old.Id)));
        Assert.Empty(await SnapshotExpiry.PendingAsync(_repo.Context, CancellationToken.None));
        Assert.Equal(new[] { old.Id, old.Id }, File.ReadAllLines(log));
    }

    /// <summary>A provider under the name the backups recorded (the command provider deleting a directory provider's folders).</summary>
    private sealed class RecordedAs(string name, ISnapshotProvider inner) : ISnapshotProvider
    {
        public string Name => name;

        public bool Atomic => inner.Atomic;

        public Task<SnapshotTaken> TakeAsync(SnapshotRequest request, CancellationToken ct) => inner.TakeAsync(request, ct);

        public Task<SnapshotTaken?> CopyAsync(SnapshotTaken taken, CancellationToken ct) => inner.CopyAsync(taken, ct);

        public Task DeleteAsync(SnapshotTaken taken, CancellationToken ct) => inner.DeleteAsync(taken, ct);
    }
}
