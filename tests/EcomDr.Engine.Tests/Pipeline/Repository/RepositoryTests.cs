using System.Security.Cryptography;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Pipeline.Storage;

namespace EcomDr.Engine.Tests.Pipeline.Repository;

public sealed class RepositoryTests : IDisposable
{
    private readonly RepoFixture _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public async Task SecondWriterGetsALockErrorNamingTheHolder()
    {
        await using var first = await BackupWriter.BeginAsync(_repo.Context, "mysql-full", null, CancellationToken.None);
        var ex = await Assert.ThrowsAsync<EcomDrException>(() => BackupWriter.BeginAsync(_repo.Context, "mysql-full", null, CancellationToken.None));
        Assert.Equal((ErrorIds.RepositoryLocked, FailureKind.ResourceBusy), (ex.ErrorId, ex.Kind));
        Assert.Contains($"mysql-full backup {first.Id}", ex.Message);
        Assert.Contains($"pid {Environment.ProcessId}", ex.Message);
        Assert.Matches(@"since \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", ex.Message);

        // Another kind is another lock.
        await using var other = await BackupWriter.BeginAsync(_repo.Context, "binlog", null, CancellationToken.None);
    }

    [Fact]
    public async Task StaleLockIsTakenOverAfterItsLease()
    {
        // A crashed holder on another host: its last renewal, with a lease that ran out.
        var since = DateTimeOffset.UtcNow.AddMinutes(-10);
        Directory.CreateDirectory(_repo.PathOf("prod/_locks"));
        await File.WriteAllTextAsync(_repo.PathOf("prod/_locks/mysql-full.lock"),
            $$"""{"holder":"crashed job","host":"db-backup-02","processId":4242,"since":"{{since:O}}","leaseUntil":"{{since.AddMinutes(2):O}}","token":"dead"}""");

        await using var writer = await BackupWriter.BeginAsync(_repo.Context, "mysql-full", null, CancellationToken.None);
        Assert.Equal("crashed job", writer.TookOverStaleLock?.Holder);
        Assert.False(File.Exists(_repo.PathOf("prod/_locks/mysql-full.lock.takeover-dead")));
    }

    [Fact]
    public async Task LockBeingWrittenIsWaitedForAndHonouredNotTakenAsStale()
    {
        // Another job has just created its lock (exclusively, still empty) and writes it a moment later.
        var since = DateTimeOffset.UtcNow;
        Directory.CreateDirectory(_repo.PathOf("prod/_locks"));
        var path = _repo.PathOf("prod/_locks/mysql-full.lock");
        var writing = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        var contender = BackupWriter.BeginAsync(_repo.Context, "mysql-full", null, CancellationToken.None);
        await writing.WriteAsync(System.Text.Encoding.UTF8.GetBytes(
            $$"""{"holder":"other job","host":"db-backup-02","processId":4242,"since":"{{since:O}}","leaseUntil":"{{since.AddMinutes(5):O}}","token":"alive"}"""));
        await writing.DisposeAsync();

        var ex = await Assert.ThrowsAsync<EcomDrException>(() => contender);
        Assert.Equal(ErrorIds.RepositoryLocked, ex.ErrorId);
        Assert.Contains("locked by 'other job'", ex.Message);
        Assert.Contains("\"token\":\"alive\"", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task LockLeftEmptyByAWriterKilledWhileCreatingItIsTakenOver()
    {
        Directory.CreateDirectory(_repo.PathOf("prod/_locks"));
        await File.WriteAllBytesAsync(_repo.PathOf("prod/_locks/mysql-full.lock"), []);

        await using var writer = await BackupWriter.BeginAsync(_repo.Context, "mysql-full", null, CancellationToken.None);
        Assert.Equal("(unreadable lock)", writer.TookOverStaleLock?.Holder);
        Assert.Contains(writer.Id, await File.ReadAllTextAsync(_repo.PathOf("prod/_locks/mysql-full.lock")));
    }

    [Fact]
    public async Task HolderWhoseLockWasTakenOverKnowsItLostIt()
    {
        var slow = await RepositoryLock.AcquireAsync(_repo.Store, "prod", "mysql-full", "slow job", TimeSpan.FromMilliseconds(300), CancellationToken.None);
        // What a takeover leaves: the lock carries another holder's token. The new holder keeps it
        // that way (a stalled holder's last renewal may race it once).
        var lockFile = _repo.PathOf("prod/_locks/mysql-full.lock");
        for (var i = 0; i < 10 && !slow.Lost; i++)
        {
            var record = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(lockFile))!;
            record["token"] = "other";
            await File.WriteAllTextAsync(lockFile, record.ToJsonString());
            await Task.Delay(100);
        }

        Assert.True(slow.Lost);
        await slow.DisposeAsync();
        Assert.True(File.Exists(lockFile), "a lost lock is not released: it belongs to the new holder");
    }

    [Fact]
    public async Task WriterThatLostItsLockDoesNotWriteAManifest()
    {
        await using var writer = await BackupWriter.BeginAsync(_repo.Context, "docs", null, CancellationToken.None);
        await writer.AddArtifactAsync("a.txt", (s, ct) => s.WriteAsync(new byte[100], ct).AsTask(), CancellationToken.None);
        var lockFile = _repo.PathOf("prod/_locks/docs.lock");
        var record = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(lockFile))!;
        record["token"] = "taken-over";
        await File.WriteAllTextAsync(lockFile, record.ToJsonString());

        var ex = await Assert.ThrowsAsync<EcomDrException>(() => writer.CompleteAsync(CancellationToken.None));
        Assert.Equal(ErrorIds.RepositoryLocked, ex.ErrorId);
        Assert.Equal(BackupStatus.Incomplete, Assert.Single(await BackupCatalog.ListAsync(_repo.Context, "docs", CancellationToken.None)).Status);
    }

    [Fact]
    public async Task WriterThatNeverCompletesLeavesAnIncompleteBackupNeverOfferedForRestore()
    {
        string id;
        await using (var writer = await BackupWriter.BeginAsync(_repo.Context, "docs", null, CancellationToken.None))
        {
            id = writer.Id;
            await writer.AddArtifactAsync("a.txt", (s, ct) => s.WriteAsync(new byte[10_000], ct).AsTask(), CancellationToken.None);
            await Assert.ThrowsAsync<InvalidOperationException>(() =>
                writer.AddArtifactAsync("b.txt", async (s, ct) => { await s.WriteAsync(new byte[5000], ct); throw new InvalidOperationException("source died"); }, CancellationToken.None));
        }

        var complete = await _repo.BackupAsync("docs", ("c.txt", new byte[100]));
        var all = await BackupCatalog.ListAsync(_repo.Context, "docs", CancellationToken.None);
        Assert.Equal(new[] { (id, BackupStatus.Incomplete), (complete.Id, BackupStatus.Complete) }, all.Select(b => (b.Id, b.Status)));
        Assert.Equal(1, all[0].ArtifactCount); // the failed upload left nothing under its name
        Assert.DoesNotContain(Directory.EnumerateFiles(_repo.Store.Root, "*", SearchOption.AllDirectories), f => f.EndsWith(".partial"));
        var ex = await Assert.ThrowsAsync<EcomDrException>(() => BackupCatalog.GetAsync(_repo.Context, id, CancellationToken.None));
        Assert.Equal(ErrorIds.BackupIncomplete, ex.ErrorId);
        Assert.False(Directory.Exists(Path.Join(_repo.Store.Root, "prod", "_locks")), "the lock was released");

        Assert.Equal(2, await BackupRemover.RemoveAsync(_repo.Context, all[0], CancellationToken.None) );
        Assert.Equal(new[] { complete.Id }, (await BackupCatalog.ListAsync(_repo.Context, null, CancellationToken.None)).Select(b => b.Id));
    }

    [Fact]
    public async Task CopyToOffsiteVerifiesResumesAndDetectsLaterCorruption()
    {
        var backup = await _repo.BackupAsync("mysql-full", ("t1.sql", RepoFixture.DumpLikeText(300_000)), ("t2.sql", RepoFixture.DumpLikeText(200_000, 2)), ("t3.sql", Array.Empty<byte>()));
        var offsite = new FileSystemStore("offsite", Path.Join(_repo.Root, "offsite"));

        // A broken earlier copy: one artifact present, one half-written, no manifest.
        var t1 = backup.Manifest!.Artifacts[0];
        var t2 = backup.Manifest.Artifacts[1];
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Join(offsite.Root, backup.Prefix + t1.Path))!);
        File.Copy(_repo.PathOf(backup.Prefix + t1.Path), Path.Join(offsite.Root, backup.Prefix + t1.Path));
        await File.WriteAllBytesAsync(Path.Join(offsite.Root, backup.Prefix + t2.Path), (await File.ReadAllBytesAsync(_repo.PathOf(backup.Prefix + t2.Path)))[..1000]);
        Assert.Equal(BackupStatus.Incomplete, (await BackupCatalog.ListAsync(_repo.Context.WithStore(offsite), null, CancellationToken.None)).Single().Status);

        var result = await BackupCopier.CopyAsync(_repo.Context, offsite, "mysql-full", backup.Id, null, CancellationToken.None);
        Assert.Equal((2, 1), (result.Copied, result.Skipped));
        Assert.Equal(BackupStatus.Complete, result.Backup.Status);
        Assert.Equal(await File.ReadAllBytesAsync(_repo.PathOf(backup.Prefix + "manifest.json")), await File.ReadAllBytesAsync(Path.Join(offsite.Root, backup.Prefix + "manifest.json")));
        Assert.True(File.Exists(Path.Join(offsite.Root, "_keys", _repo.Key.SigningKeyId + ".pub.pem")));

        var again = await BackupCopier.CopyAsync(_repo.Context, offsite, "mysql-full", backup.Id, null, CancellationToken.None);
        Assert.Equal((0, 3), (again.Copied, again.Skipped));

        var offsiteFile = Path.Join(offsite.Root, backup.Prefix + t2.Path);
        var bytes = await File.ReadAllBytesAsync(offsiteFile);
        bytes[bytes.Length / 2] ^= 1;
        await File.WriteAllBytesAsync(offsiteFile, bytes);
        var report = await BackupVerifier.VerifyAsync(_repo.Context.WithStore(offsite), "mysql-full", backup.Id, deep: false, null, CancellationToken.None);
        Assert.Equal(IntegrityStatus.Failed, report.Status);
        Assert.Equal(new[] { "t2.sql" }, report.Artifacts.Where(a => a.Status == IntegrityStatus.Failed).Select(a => a.Name));
        Assert.Equal(IntegrityStatus.Passed, (await BackupVerifier.VerifyAsync(_repo.Context, "mysql-full", backup.Id, true, null, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task BreakGlassKeyRecoversWithoutTheLocalKey()
    {
        var (privatePath, publicPath, keyId) = RsaBreakGlassKey.Create(Path.Join(_repo.Root, "breakglass.pem"));
        using var wrapOnly = RsaBreakGlassKey.Load(publicPath);
        Assert.False(wrapOnly.CanUnwrap);
        Assert.Equal(keyId, wrapOnly.KeyId);
        var context = _repo.Context with { KeyProviders = new IKeyProvider[] { _repo.Key, wrapOnly } };
        var data = RepoFixture.DumpLikeText(50_000);
        BackupInfo backup;
        await using (var writer = await BackupWriter.BeginAsync(context, "secrets", null, CancellationToken.None))
        {
            await writer.AddArtifactAsync("vault.json", (s, ct) => s.WriteAsync(data, ct).AsTask(), CancellationToken.None);
            backup = await writer.CompleteAsync(CancellationToken.None);
        }

        var artifact = backup.Manifest!.Artifacts.Single();
        Assert.Equal(new[] { LocalKeyFile.ProviderName, RsaBreakGlassKey.ProviderName }, artifact.Encryption.Keys.Select(k => k.Provider));
        using var privateKey = RsaBreakGlassKey.Load(privatePath);
        var target = Path.Join(_repo.Root, "out", "vault.json");
        await ArtifactExpander.ExpandAsync(context with { KeyProviders = new IKeyProvider[] { privateKey } }, backup, artifact, target, false, CancellationToken.None);
        Assert.Equal(data, await File.ReadAllBytesAsync(target));

        var small = Path.Join(_repo.Root, "small.pem");
        using (var rsa = RSA.Create(2048))
        {
            await File.WriteAllTextAsync(small, rsa.ExportSubjectPublicKeyInfoPem());
        }

        Assert.Equal(ErrorIds.KeyInvalid, Assert.Throws<EcomDrException>(() => RsaBreakGlassKey.Load(small)).ErrorId);
    }

    [Fact]
    public async Task ExpandOfATamperedArtifactLeavesNoFile()
    {
        var backup = await _repo.BackupAsync("docs", ("big.txt", RandomNumberGenerator.GetBytes(50_000)));
        var artifact = backup.Manifest!.Artifacts.Single();
        var file = _repo.PathOf(backup.Prefix + artifact.Path);
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[^100] ^= 4;
        await File.WriteAllBytesAsync(file, bytes);
        var target = Path.Join(_repo.Root, "out", "big.txt");
        var ex = await Assert.ThrowsAsync<EcomDrException>(() => ArtifactExpander.ExpandAsync(_repo.Context, backup, artifact, target, false, CancellationToken.None));
        // The stored hash is checked as the last stored byte is read, before the final frame is opened.
        Assert.Equal(ErrorIds.ArtifactHashMismatch, ex.ErrorId);
        Assert.False(Directory.Exists(Path.GetDirectoryName(target)) && Directory.EnumerateFiles(Path.GetDirectoryName(target)!).Any());
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData(".hidden")]
    [InlineData("a//b")]
    [InlineData("manifest.json")]
    public async Task BadArtifactNamesAreRefusedBeforeWriting(string name)
    {
        await using var writer = await BackupWriter.BeginAsync(_repo.Context, "docs", null, CancellationToken.None);
        var ex = await Assert.ThrowsAsync<EcomDrException>(() => writer.AddArtifactAsync(name, (s, ct) => Task.CompletedTask, CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidArgument, ex.ErrorId);
    }
}
