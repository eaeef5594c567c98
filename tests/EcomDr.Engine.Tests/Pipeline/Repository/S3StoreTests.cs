using System.Security.Cryptography;
using Amazon.Runtime;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Pipeline.Storage;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Pipeline.Repository;

/// <summary>The S3 store against a real S3-compatible server (s3rver, started for this class).</summary>
public sealed class S3StoreTests : IAsyncLifetime
{
    private const int PartSize = 5 << 20; // S3's smallest part
    private S3rverServer _s3 = null!;
    private RepoFixture _repo = null!;

    public async Task InitializeAsync()
    {
        _s3 = await S3rverServer.StartAsync("primary-bucket", "offsite-bucket");
        _repo = new RepoFixture(frameSize: 64 << 10);
    }

    public async Task DisposeAsync()
    {
        _repo.Dispose();
        await _s3.DisposeAsync();
    }

    private S3ObjectStore Store(string bucket, string name = "offsite", int retries = 2) =>
        new(name, S3ObjectStore.CreateClient(_s3.Endpoint, "us-east-1", forcePathStyle: true,
                new BasicAWSCredentials(S3rverServer.AccessKey, S3rverServer.SecretKey), new S3StoreOptions(PartSize, 3, retries, TimeSpan.FromSeconds(20))),
            bucket, "ecomdr/prod-site", new S3StoreOptions(PartSize, 3, retries));

    [Fact]
    public async Task ArtifactsFromZeroBytesToMultipartRoundTripByteIdentical()
    {
        using var store = Store("primary-bucket", "primary");
        var context = _repo.Context.WithStore(store) with { PublicLabels = ["gitCommit"] };
        var big = RandomNumberGenerator.GetBytes(2 * PartSize + 12345);
        BackupInfo backup;
        await using (var writer = await BackupWriter.BeginAsync(context, "mysql-full", new Dictionary<string, string> { ["gitCommit"] = "abc123" }, CancellationToken.None))
        {
            await writer.AddArtifactAsync("empty.sql", (s, ct) => Task.CompletedTask, CancellationToken.None);
            await writer.AddArtifactAsync("big.bin", (s, ct) => s.WriteAsync(big, ct).AsTask(), CancellationToken.None);
            backup = await writer.CompleteAsync(CancellationToken.None);
        }

        var listed = Assert.Single(await BackupCatalog.ListAsync(context, null, CancellationToken.None));
        Assert.Equal((backup.Id, BackupStatus.Complete), (listed.Id, listed.Status));
        Assert.Equal("s3://primary-bucket/ecomdr/prod-site/", listed.Location);
        var bigEntry = backup.Manifest!.Artifacts.Single(a => a.Name == "big.bin");
        Assert.True(bigEntry.StoredSize > 2 * PartSize, "stored in three parts");
        Assert.Equal("abc123", backup.Manifest.Labels["gitCommit"]);

        // Public labels travel as object tags; the others (the host name) stay sealed in the manifest.
        using var client = S3ObjectStore.CreateClient(_s3.Endpoint, "us-east-1", true, new BasicAWSCredentials(S3rverServer.AccessKey, S3rverServer.SecretKey));
        foreach (var entry in backup.Manifest.Artifacts)
        {
            var tagging = await client.GetObjectTaggingAsync(new Amazon.S3.Model.GetObjectTaggingRequest
            {
                BucketName = "primary-bucket", Key = "ecomdr/prod-site/" + backup.Prefix + entry.Path,
            });
            Assert.Contains(tagging.Tagging, t => t.Key == "gitCommit" && t.Value == "abc123");
            Assert.DoesNotContain(tagging.Tagging, t => t.Key == "host");
        }

        foreach (var artifact in backup.Manifest.Artifacts)
        {
            await using var read = await ArtifactReader.OpenAsync(store, backup.Prefix + artifact.Path, artifact, context.KeyProviders, CancellationToken.None);
            using var plain = new MemoryStream();
            await read.CopyToAsync(plain);
            Assert.Equal(artifact.Name == "big.bin" ? big : Array.Empty<byte>(), plain.ToArray());
        }

        // The stored object holds exactly the encrypted bytes (no aws-chunked framing).
        var onDisk = Directory.EnumerateFiles(_s3.Directory, "*", SearchOption.AllDirectories).Where(f => f.Contains(bigEntry.Path)).ToList();
        Assert.NotEmpty(onDisk);
        Assert.Contains(onDisk, f => new FileInfo(f).Length == bigEntry.StoredSize);
        Assert.Equal(IntegrityStatus.Passed, (await BackupVerifier.VerifyAsync(context, "mysql-full", backup.Id, deep: true, null, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task ListingPagesPastAThousandKeys()
    {
        using var store = Store("primary-bucket", "primary");
        for (var i = 0; i < 1005; i++)
        {
            await store.PutAsync($"paging/{i:D4}.json", "{}"u8.ToArray(), CancellationToken.None);
        }

        var keys = new List<string>();
        await foreach (var obj in store.ListAsync("paging/", CancellationToken.None))
        {
            keys.Add(obj.Key);
        }

        Assert.Equal(Enumerable.Range(0, 1005).Select(i => $"paging/{i:D4}.json"), keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task CopyFromFileSystemToS3AndCorruptionThereIsDetected()
    {
        var backup = await _repo.BackupAsync("docs", ("adr/0001.md", RepoFixture.DumpLikeText(100_000)), ("adr/0002.md", RepoFixture.DumpLikeText(70_000, 3)));
        using var offsite = Store("offsite-bucket");
        var copy = await BackupCopier.CopyAsync(_repo.Context, offsite, "docs", backup.Id, null, CancellationToken.None);
        Assert.Equal((2, 0, BackupStatus.Complete), (copy.Copied, copy.Skipped, copy.Backup.Status));
        var offsiteContext = _repo.Context.WithStore(offsite);
        Assert.Equal(IntegrityStatus.Passed, (await BackupVerifier.VerifyAsync(offsiteContext, "docs", backup.Id, false, null, CancellationToken.None)).Status);

        var artifact = backup.Manifest!.Artifacts[1];
        var key = backup.Prefix + artifact.Path;
        byte[] bytes;
        await using (var s = await offsite.OpenReadAsync(key, CancellationToken.None))
        using (var m = new MemoryStream())
        {
            await s.CopyToAsync(m);
            bytes = m.ToArray();
        }

        bytes[^20] ^= 0x80;
        await offsite.PutAsync(key, bytes, CancellationToken.None);
        var report = await BackupVerifier.VerifyAsync(offsiteContext, "docs", backup.Id, false, null, CancellationToken.None);
        Assert.Equal(IntegrityStatus.Failed, report.Status);
        Assert.Equal(new[] { ("adr/0002.md", ErrorIds.ArtifactHashMismatch) }, report.Artifacts.Where(a => a.ErrorId is not null).Select(a => (a.Name, a.ErrorId!)));

        // Copying again repairs exactly the damaged artifact.
        var repair = await BackupCopier.CopyAsync(_repo.Context, offsite, "docs", backup.Id, null, CancellationToken.None);
        Assert.Equal((1, 1), (repair.Copied, repair.Skipped));
    }

    [Fact]
    public async Task LockOnS3RefusesASecondWriter()
    {
        using var store = Store("primary-bucket", "primary");
        var context = _repo.Context.WithStore(store) with { Environment = "lockenv" };
        await using var first = await BackupWriter.BeginAsync(context, "binlog", null, CancellationToken.None);
        var ex = await Assert.ThrowsAsync<EcomDrException>(() => BackupWriter.BeginAsync(context, "binlog", null, CancellationToken.None));
        Assert.Equal(ErrorIds.RepositoryLocked, ex.ErrorId);
    }

    [Fact]
    public async Task StoppingTheServerMidUploadFailsCleanlyWithoutAManifest()
    {
        using var store = Store("primary-bucket", "primary", retries: 1);
        var context = _repo.Context.WithStore(store) with { Environment = "outage" };
        var writer = await BackupWriter.BeginAsync(context, "mysql-full", null, CancellationToken.None);
        var ex = await Assert.ThrowsAsync<EcomDrException>(() => writer.AddArtifactAsync("table.sql", async (s, ct) =>
        {
            var chunk = RandomNumberGenerator.GetBytes(1 << 20);
            for (var i = 0; i < 40; i++)
            {
                if (i == 8)
                {
                    await _s3.StopAsync();
                }

                await s.WriteAsync(chunk, ct);
            }
        }, CancellationToken.None));
        Assert.Equal((ErrorIds.StoreUnavailable, FailureKind.ResourceUnavailable), (ex.ErrorId, ex.Kind));
        Assert.Contains("failed after retries", ex.Message);
        await Assert.ThrowsAnyAsync<Exception>(async () => await writer.DisposeAsync()); // the lock cannot even be released
        Assert.DoesNotContain(Directory.EnumerateFiles(_s3.Directory, "manifest.json*", SearchOption.AllDirectories), f => f.Contains("outage"));
    }
}
