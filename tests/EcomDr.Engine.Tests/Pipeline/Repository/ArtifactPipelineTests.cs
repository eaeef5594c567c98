using System.Security.Cryptography;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Tests.Pipeline.Repository;

public class ArtifactPipelineTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4095)]
    [InlineData(4096)]
    [InlineData(4097)]
    [InlineData(3 * 4096)]
    [InlineData(1_000_003)]
    public async Task RoundTripIsByteIdentical(int size)
    {
        using var repo = new RepoFixture(frameSize: 4096);
        var data = size % 2 == 0 ? RepoFixture.DumpLikeText(size) : RandomNumberGenerator.GetBytes(size);
        var backup = await repo.BackupAsync("docs", ("payload.bin", data));
        var artifact = Assert.Single(backup.Manifest!.Artifacts);
        Assert.Equal(size, artifact.PlainSize);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(data)).ToLowerInvariant(), artifact.PlainSha256);
        var stored = await File.ReadAllBytesAsync(repo.PathOf(backup.Prefix + artifact.Path));
        Assert.Equal(stored.Length, artifact.StoredSize);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(stored)).ToLowerInvariant(), artifact.StoredSha256);
        Assert.Equal("EDRA"u8.ToArray(), stored[..4]);

        await using var read = await ArtifactReader.OpenAsync(repo.Store, backup.Prefix + artifact.Path, artifact, repo.Context.KeyProviders, CancellationToken.None);
        using var back = new MemoryStream();
        await read.CopyToAsync(back);
        Assert.Equal(data, back.ToArray());
    }

    [Fact]
    public async Task CompressibleTextShrinksAndEveryArtifactGetsItsOwnDataKey()
    {
        using var repo = new RepoFixture();
        var text = RepoFixture.DumpLikeText(500_000);
        var backup = await repo.BackupAsync("docs", ("a.sql", text), ("b.sql", text));
        var (a, b) = (backup.Manifest!.Artifacts[0], backup.Manifest.Artifacts[1]);
        Assert.True(a.StoredSize < text.Length / 3, $"stored {a.StoredSize} of {text.Length}");
        Assert.Equal(a.PlainSha256, b.PlainSha256);
        Assert.NotEqual(a.StoredSha256, b.StoredSha256);
        Assert.NotEqual(a.Encryption.Keys[0].Wrapped, b.Encryption.Keys[0].Wrapped);
    }
}
