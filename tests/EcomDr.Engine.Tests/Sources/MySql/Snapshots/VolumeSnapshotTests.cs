using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Prerequisites;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Snapshots;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.TestKit.Servers;
using MySqlConnector;

namespace EcomDr.Engine.Tests.Sources.MySql.Snapshots;

/// <summary>
/// Invoke-MySqlVolumeSnapshot's engine against a real MariaDB: the directory provider's copy, taken
/// while a writer commits, starts as a server whose rows are exactly the transactions its GTID state
/// names; the freeze lasts while the provider takes the snapshot and not through the offsite copy; a
/// provider that hangs is stopped at MaxFreeze, one that fails or prints no id leaves no complete
/// backup, and writes go on after each.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class VolumeSnapshotTests : IAsyncLifetime
{
    private static readonly TimeSpan StateWait = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("ecomdr-volsnap-").FullName;
    private MariaDbServer _source = null!;
    private RepoFixture _repo = null!;

    public async Task InitializeAsync()
    {
        _source = await MariaDbServer.StartAsync();
        _repo = new RepoFixture();
        await _source.ExecuteAsync("CREATE DATABASE shop; CREATE TABLE shop.ledger (id INT PRIMARY KEY, note VARCHAR(200), KEY (note)) ENGINE=InnoDB");
    }

    public async Task DisposeAsync()
    {
        _repo.Dispose();
        await _source.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private static MySqlEndpoint Root(MariaDbServer server) => new("127.0.0.1", server.Port, "root", Secret.Empty, "None");

    private string Script(string name, string body)
    {
        var path = Path.Join(_dir, name);
        File.WriteAllText(path, "#!/bin/bash\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static async Task WaitForAsync(Func<Task<bool>> state, string what)
    {
        var until = DateTime.UtcNow + StateWait;
        while (!await state())
        {
            Assert.True(DateTime.UtcNow < until, $"never reached: {what}");
            await Task.Delay(20);
        }
    }

    private async Task<bool> ACommitIsBlockedAsync() =>
        Convert.ToInt64(await _source.ScalarAsync("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO shop.ledger VALUES (-%' AND STATE LIKE 'Waiting for%'")) > 0;

    [Fact]
    public async Task ADirectoryCopyTakenWhileAWriterCommitsHoldsExactlyTheTransactionsOfItsGtidState()
    {
        var baseSeq = long.Parse(Convert.ToString(await _source.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos"))!.Split('-')[2], System.Globalization.CultureInfo.InvariantCulture);
        using var stop = new CancellationTokenSource();
        var committed = 0;
        var writer = Task.Run(async () =>
        {
            await using var c = await _source.OpenRootAsync();
            for (var i = 1; !stop.IsCancellationRequested; i++)
            {
                await using var cmd = new MySqlCommand($"INSERT INTO shop.ledger VALUES ({i}, REPEAT('n', {i % 190}))", c);
                await cmd.ExecuteNonQueryAsync();
                committed = i;
            }
        });
        await WaitForAsync(() => Task.FromResult(Volatile.Read(ref committed) >= 300), "300 commits before the snapshot");
        var provider = new DirectorySnapshotProvider(new DirectoryProviderOptions(Path.Join(_dir, "snapshots"), Path.Join(_dir, "offsite")));
        var result = await VolumeSnapshot.RunAsync(_repo.Context, Root(_source), provider, new VolumeSnapshotOptions(TimeSpan.FromSeconds(60)), CancellationToken.None);
        await WaitForAsync(() => Task.FromResult(Volatile.Read(ref committed) >= 600), "commits after the snapshot");
        await stop.CancelAsync();
        await writer;

        Assert.Equal(BackupStatus.Complete, result.Backup.Status);
        Assert.Equal(BackupKinds.MySqlSnapshot, result.Backup.Kind);
        Assert.StartsWith("FLUSH TABLES WITH READ LOCK", result.Method, StringComparison.Ordinal);
        var listed = await BackupCatalog.ListAsync(_repo.Context, BackupKinds.MySqlSnapshot, CancellationToken.None);
        var backup = Assert.Single(listed);
        var (primary, copies) = SnapshotRecord.Of(backup);
        Assert.Equal(("directory", backup.Id), (primary.Provider, Assert.Single(primary.Ids)));
        Assert.Equal(DirectorySnapshotProvider.OffsiteRegion, Assert.Single(copies).Region);
        Assert.True(Directory.Exists(Path.Join(_dir, "offsite", backup.Id)));
        Assert.Equal(result.GtidSet, (string?)backup.Manifest!.Source["gtidSet"]);
        Assert.Equal(Path.TrimEndingDirectorySeparator(_source.DataDirectory), Path.TrimEndingDirectorySeparator((string)backup.Manifest.Source["dataDirectory"]!));
        Assert.True((double)backup.Manifest.Stats["freezeSeconds"]! > 0);
        Assert.Empty(Directory.GetDirectories(Path.Join(_dir, "snapshots"), "*.partial"));

        // A server on the copy: crash recovery, then rows that are exactly the GTID state's transactions.
        var seq = long.Parse(result.GtidSet.Split('-')[2], System.Globalization.CultureInfo.InvariantCulture);
        await using var restored = await MariaDbServer.StartOnAsync(d => provider.RestoreAsync(backup.Id, _source.DataDirectory, d, CancellationToken.None), new MariaDbOptions());
        Assert.Equal(result.GtidSet, Convert.ToString(await restored.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos")));
        var (count, max) = await CountAsync(restored);
        Assert.Equal(seq - baseSeq, count);
        Assert.Equal(count, max);
        Assert.InRange(count, 300, Volatile.Read(ref committed) - 1);
        Assert.Equal("OK", await CheckAsync(restored));
        // The restored server's binlog is its own copy, not the source's files.
        var binlogs = await restored.ScalarAsync("SELECT COUNT(*) FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'LOG_BIN_BASENAME' AND VARIABLE_VALUE LIKE CONCAT(@@datadir, '%')");
        Assert.Equal(1L, Convert.ToInt64(binlogs));
    }

    private static async Task<(long Count, long Max)> CountAsync(MariaDbServer server)
    {
        await using var c = await server.OpenRootAsync();
        await using var cmd = new MySqlCommand("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM shop.ledger", c);
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return (r.GetInt64(0), r.GetInt64(1));
    }

    private static async Task<string> CheckAsync(MariaDbServer server)
    {
        await using var c = await server.OpenRootAsync();
        await using var cmd = new MySqlCommand("CHECK TABLE shop.ledger EXTENDED", c);
        await using var r = await cmd.ExecuteReaderAsync();
        var last = "";
        while (await r.ReadAsync())
        {
            last = r.GetString(3);
        }

        return last;
    }

    [Fact]
    public async Task CommitsWaitWhileTheProviderTakesTheSnapshotAndGoOnBeforeItsOffsiteCopy()
    {
        var taking = Path.Join(_dir, "taking");
        var go = Path.Join(_dir, "go");
        var committed = Path.Join(_dir, "committed");
        var take = Script("take.sh", $"touch '{taking}'\nwhile [ ! -e '{go}' ]; do sleep 0.05; done\necho vol-snap-1");
        var copy = Script("copy.sh", $"while [ ! -e '{committed}' ]; do sleep 0.05; done\necho vol-snap-1-copy");
        var delete = Script("delete.sh", "exit 0");
        var provider = new CommandSnapshotProvider(new CommandProviderOptions([take], [delete], [copy], Region: "eu-west-1", CopyRegion: "eu-central-1", Encrypted: true));
        var snapshot = VolumeSnapshot.RunAsync(_repo.Context, Root(_source), provider, new VolumeSnapshotOptions(TimeSpan.FromSeconds(120)), CancellationToken.None);

        await WaitForAsync(() => Task.FromResult(File.Exists(taking)), "the provider started");
        var insert = _source.ExecuteAsync("INSERT INTO shop.ledger VALUES (-1, 'during the freeze')");
        await WaitForAsync(ACommitIsBlockedAsync, "the INSERT waits for the freeze");
        Assert.False(insert.IsCompleted);

        File.WriteAllText(go, "");
        await insert; // the provider said it was taken: commits go on while the copy still runs
        Assert.False(snapshot.IsCompleted);
        File.WriteAllText(committed, "");
        var result = await snapshot;

        Assert.Equal("BACKUP STAGE BLOCK_COMMIT", result.Method);
        Assert.Equal(("vol-snap-1", "eu-west-1", true), (Assert.Single(result.Taken.Ids), result.Taken.Region, result.Taken.Encrypted));
        Assert.Equal(("vol-snap-1-copy", "eu-central-1"), (Assert.Single(result.Offsite!.Ids), result.Offsite.Region));
        var (primary, copies) = SnapshotRecord.Of(result.Backup);
        Assert.Equal(("command", "vol-snap-1", "vol-snap-1-copy"), (primary.Provider, primary.Ids.Single(), copies.Single().Ids.Single()));
    }

    [Fact]
    public async Task AHangingProviderIsStoppedAtMaxFreezeAndWritesGoOn()
    {
        var pidFile = Path.Join(_dir, "pid");
        var hang = Script("hang.sh", $"echo $$ > '{pidFile}'\nsleep 600\necho never");
        var provider = new CommandSnapshotProvider(new CommandProviderOptions([hang], [Script("delete.sh", "exit 0")]));
        var snapshot = VolumeSnapshot.RunAsync(_repo.Context, Root(_source), provider, new VolumeSnapshotOptions(TimeSpan.FromSeconds(3)), CancellationToken.None);
        await WaitForAsync(() => Task.FromResult(File.Exists(pidFile) && File.ReadAllText(pidFile).Trim().Length > 0), "the provider started");
        var insert = _source.ExecuteAsync("INSERT INTO shop.ledger VALUES (-2, 'while the provider hangs')");

        var ex = await Assert.ThrowsAsync<EcomDrException>(() => snapshot);
        Assert.Equal((ErrorIds.SnapshotFreezeTimeout, FailureKind.OperationTimeout), (ex.ErrorId, ex.Kind));
        Assert.Contains("-MaxFreeze", ex.Message, StringComparison.Ordinal);
        await insert; // released: the blocked commit went through
        await _source.ExecuteAsync("INSERT INTO shop.ledger VALUES (-3, 'after')");
        Assert.Equal(2L, Convert.ToInt64(await _source.ScalarAsync("SELECT COUNT(*) FROM shop.ledger WHERE id < 0")));
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.False(Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal), "the provider's process was killed");
        await AssertNoCompleteBackupAsync();
    }

    [Theory]
    [InlineData("echo 'token=hvs.CAESIsecretsecretsecret' >&2\necho 'volume busy: vg0/mysql' >&2\nexit 5", "exited with 5")]
    [InlineData("echo 'created nothing' >&2\nexit 0", "printed no snapshot id")]
    public async Task AFailingProviderOrOneThatPrintsNoIdLeavesNoCompleteBackupAndWritesGoOn(string body, string why)
    {
        var provider = new CommandSnapshotProvider(new CommandProviderOptions([Script("take.sh", body)], [Script("delete.sh", "exit 0")]));
        var ex = await Assert.ThrowsAsync<EcomDrException>(() =>
            VolumeSnapshot.RunAsync(_repo.Context, Root(_source), provider, new VolumeSnapshotOptions(TimeSpan.FromSeconds(30)), CancellationToken.None));
        Assert.Equal(ErrorIds.SnapshotProviderFailed, ex.ErrorId);
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hvs.CAESIsecret", ex.Message, StringComparison.Ordinal);
        if (why.StartsWith("exited", StringComparison.Ordinal))
        {
            Assert.Contains("volume busy: vg0/mysql", ex.Message, StringComparison.Ordinal);
        }

        await _source.ExecuteAsync("INSERT INTO shop.ledger VALUES (-4, 'after a failed snapshot')");
        await AssertNoCompleteBackupAsync();
    }

    [Fact]
    public async Task AnEbsSnapshotIsRecordedWithItsOffsiteCopyAndOneThatFailsIsDeletedWithNoBackup()
    {
        await using var ec2 = Ec2StandIn.Start();
        ec2.Volumes["vol-0data"] = "eu-west-1";
        ec2.Volumes["vol-0bad"] = "eu-west-1";
        ec2.Failing.Add("vol-0bad");
        Environment.SetEnvironmentVariable("ECOMDR_TEST_EBS_AK", "AKIAIOSFODNN7EXAMPLE");
        Environment.SetEnvironmentVariable("ECOMDR_TEST_EBS_SK", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        AwsEbsSnapshotProvider Ebs(string volume) => new(new AwsEbsProviderOptions("eu-west-1", volume, null, "eu-central-1", "alias/offsite", true, ec2.Endpoint.ToString(),
            "ECOMDR_TEST_EBS_AK", "ECOMDR_TEST_EBS_SK") { PollInterval = TimeSpan.FromMilliseconds(10) });

        using (var provider = Ebs("vol-0data"))
        {
            var result = await VolumeSnapshot.RunAsync(_repo.Context, Root(_source), provider, new VolumeSnapshotOptions(TimeSpan.FromSeconds(30), new Dictionary<string, string> { ["change"] = "CHG-7" }),
                CancellationToken.None);
            Assert.Equal("BACKUP STAGE BLOCK_COMMIT", result.Method);
            var (primary, copies) = SnapshotRecord.Of(Assert.Single(await BackupCatalog.ListAsync(_repo.Context, BackupKinds.MySqlSnapshot, CancellationToken.None)));
            var snapshot = ec2.Snapshots[Assert.Single(primary.Ids)];
            Assert.Equal(("aws-ebs", "eu-west-1", true, "completed"), (primary.Provider, primary.Region, primary.Encrypted, snapshot.State));
            Assert.Equal((result.Backup.Id, "prod", "CHG-7"), (snapshot.Tags["ecomdr-backup"], snapshot.Tags["ecomdr-environment"], snapshot.Tags["ecomdr-change"]));
            var copy = Assert.Single(copies);
            Assert.Equal(("eu-central-1", $"eu-west-1/{snapshot.Id}"), (copy.Region, ec2.Snapshots[Assert.Single(copy.Ids)].CopiedFrom));
            // Taken under the freeze, completed after it, then copied: in that order.
            Assert.Equal(new[] { "CreateSnapshot", "DescribeSnapshots", "CopySnapshot" }, ec2.Requests.Select(r => r.Action).Distinct());
        }

        using (var failing = Ebs("vol-0bad"))
        {
            var ex = await Assert.ThrowsAsync<EcomDrException>(() =>
                VolumeSnapshot.RunAsync(_repo.Context, Root(_source), failing, new VolumeSnapshotOptions(TimeSpan.FromSeconds(30)), CancellationToken.None));
            Assert.Equal(ErrorIds.SnapshotProviderFailed, ex.ErrorId);
            Assert.DoesNotContain(ec2.Snapshots.Values, s => s.VolumeId == "vol-0bad"); // the failed snapshot was deleted
            Assert.Single(await BackupCatalog.ListAsync(_repo.Context, BackupKinds.MySqlSnapshot, CancellationToken.None), b => b.Status == BackupStatus.Complete);
        }

        await _source.ExecuteAsync("INSERT INTO shop.ledger VALUES (-5, 'after the EBS snapshots')");
    }

    [Fact]
    public async Task TestDrPrerequisiteChecksTheConfiguredProviderWithoutTakingAnything()
    {
        var folder = Path.Join(_dir, "snapshots");
        var directory = await SnapshotPrerequisites.RunAsync(Root(_source),
            new Engine.Config.VolumeSnapshotConfig(Engine.Config.SnapshotProviderType.Directory, 30, null, new DirectoryProviderOptions(folder), null), CancellationToken.None);
        Assert.Equal(new[] { ("Snapshot.DataDirectory", CheckStatus.Pass), ("Snapshot.Folder", CheckStatus.Pass) }, directory.Select(r => (r.Check, r.Status)));
        Assert.Empty(Directory.GetFileSystemEntries(folder)); // the write probe is gone
        var elsewhere = await SnapshotPrerequisites.RunAsync(Root(_source),
            new Engine.Config.VolumeSnapshotConfig(Engine.Config.SnapshotProviderType.Directory, 30, "/nonexistent/mysql", new DirectoryProviderOptions(folder), null), CancellationToken.None);
        Assert.Equal(CheckStatus.Fail, elsewhere.Single(r => r.Check == "Snapshot.DataDirectory").Status);

        var notExecutable = Path.Join(_dir, "plain.sh");
        File.WriteAllText(notExecutable, "#!/bin/bash\n");
        var command = await SnapshotPrerequisites.RunAsync(Root(_source), new Engine.Config.VolumeSnapshotConfig(Engine.Config.SnapshotProviderType.Command, 30, null, null,
            new CommandProviderOptions(["bash", "-c", "echo id"], [notExecutable], ["no-such-snapshot-tool"], CopyRegion: "eu-central-1")), CancellationToken.None);
        Assert.Equal(new[] { ("Snapshot.Command.take", CheckStatus.Pass), ("Snapshot.Command.delete", CheckStatus.Fail), ("Snapshot.Command.copy", CheckStatus.Fail) },
            command.Select(r => (r.Check, r.Status)));
        Assert.Contains("not found", command[2].Observed, StringComparison.Ordinal);

        await using var ec2 = Ec2StandIn.Start();
        ec2.Volumes["vol-0data"] = "eu-west-1";
        Environment.SetEnvironmentVariable("ECOMDR_TEST_EBS_AK", "AKIAIOSFODNN7EXAMPLE");
        Environment.SetEnvironmentVariable("ECOMDR_TEST_EBS_SK", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        Engine.Config.VolumeSnapshotConfig Ebs(string volume) => new(Engine.Config.SnapshotProviderType.AwsEbs, 30, null, null, null,
            new AwsEbsProviderOptions("eu-west-1", volume, Endpoint: ec2.Endpoint.ToString(), AccessKeyEnvironmentVariable: "ECOMDR_TEST_EBS_AK", SecretKeyEnvironmentVariable: "ECOMDR_TEST_EBS_SK"));
        Assert.Equal(CheckStatus.Pass, Assert.Single(await SnapshotPrerequisites.RunAsync(Root(_source), Ebs("vol-0data"), CancellationToken.None)).Status);
        Assert.Equal("true", ec2.Requests.Single().Parameters["DryRun"]);
        Assert.Empty(ec2.Snapshots);
        Assert.Contains("InvalidVolume.NotFound", Assert.Single(await SnapshotPrerequisites.RunAsync(Root(_source), Ebs("vol-0gone"), CancellationToken.None)).Observed, StringComparison.Ordinal);
        ec2.Denied.Add("CreateSnapshot");
        var denied = Assert.Single(await SnapshotPrerequisites.RunAsync(Root(_source), Ebs("vol-0data"), CancellationToken.None));
        Assert.Equal(CheckStatus.Fail, denied.Status);
        Assert.Contains("UnauthorizedOperation", denied.Observed, StringComparison.Ordinal);
    }

    private async Task AssertNoCompleteBackupAsync()
    {
        var backups = await BackupCatalog.ListAsync(_repo.Context, BackupKinds.MySqlSnapshot, CancellationToken.None);
        Assert.DoesNotContain(backups, b => b.Status == BackupStatus.Complete);
        Assert.Empty(Directory.Exists(_repo.Store.Root) ? Directory.GetFiles(_repo.Store.Root, "manifest.json", SearchOption.AllDirectories) : []);
    }
}
