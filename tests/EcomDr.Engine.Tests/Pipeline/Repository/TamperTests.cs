using System.Security.Cryptography;
using System.Text;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Tests.Pipeline.Repository;

/// <summary>Every way of damaging a backup is detected, each with its own error.</summary>
public sealed class TamperTests : IDisposable
{
    private const int Frame = 4096;
    private readonly RepoFixture _repo = new(Frame);

    public void Dispose() => _repo.Dispose();

    private async Task<(BackupInfo Backup, ArtifactEntry Artifact, string File)> OneAsync(string name = "data.sql", int format = BackupManifest.CurrentSchemaVersion)
    {
        _repo.Context = _repo.Context with { ManifestVersion = format };
        // Random bytes do not compress: the artifact spans six frames.
        var backup = await _repo.BackupAsync("docs", (name, RandomNumberGenerator.GetBytes(5 * Frame + 100)));
        var artifact = backup.Manifest!.Artifacts.Single();
        return (backup, artifact, _repo.PathOf(backup.Prefix + artifact.Path));
    }

    /// <summary>Reads the artifact with an entry that accepts the tampered bytes' hash, so only the framing can object.</summary>
    private async Task<EcomDrException> FramingRejectsAsync(BackupInfo backup, ArtifactEntry artifact, byte[] tampered)
    {
        await File.WriteAllBytesAsync(_repo.PathOf(backup.Prefix + artifact.Path), tampered);
        var forged = new ArtifactEntry
        {
            Name = artifact.Name, Path = artifact.Path, StoredSize = tampered.Length,
            StoredSha256 = Convert.ToHexString(SHA256.HashData(tampered)), PlainSize = artifact.PlainSize, PlainSha256 = artifact.PlainSha256,
            Compression = artifact.Compression, Encryption = artifact.Encryption,
        };
        return await Assert.ThrowsAsync<EcomDrException>(async () =>
        {
            await using var s = await ArtifactReader.OpenAsync(_repo.Store, backup.Prefix + artifact.Path, forged, _repo.Context.KeyProviders, CancellationToken.None);
            await s.CopyToAsync(Stream.Null);
        });
    }

    private static int FrameStart(int index) => FrameFormat.HeaderSize + index * (Frame + FrameFormat.TagSize);

    [Theory]
    [InlineData(5)]          // header
    [InlineData(40)]         // first frame's ciphertext
    [InlineData(4130)]       // first frame's tag
    [InlineData(-3)]         // final frame's tag
    public async Task FlippedBitIsFoundByHashAndByFraming(int offset)
    {
        var (backup, artifact, file) = await OneAsync();
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[offset < 0 ? bytes.Length + offset : offset] ^= 0x10;
        await File.WriteAllBytesAsync(file, bytes);

        var report = await BackupVerifier.VerifyAsync(_repo.Context, "docs", backup.Id, deep: false, null, CancellationToken.None);
        Assert.Equal(IntegrityStatus.Failed, report.Status);
        Assert.Equal(ErrorIds.ArtifactHashMismatch, report.Artifacts.Single().ErrorId);
        Assert.Contains("stored SHA-256", report.Artifacts.Single().Problem);

        var framing = await FramingRejectsAsync(backup, artifact, bytes);
        Assert.Equal(ErrorIds.ArtifactCorrupt, framing.ErrorId);
    }

    [Fact]
    public async Task TruncationDropReorderAndTrailingBytesAreEachNamed()
    {
        var (backup, artifact, file) = await OneAsync();
        var bytes = await File.ReadAllBytesAsync(file);

        var truncated = bytes[..FrameStart(5)];
        Assert.Contains("without a final frame", (await FramingRejectsAsync(backup, artifact, truncated)).Message);

        var cutInFrame = bytes[..(bytes.Length - 7)];
        Assert.Contains("fails authentication", (await FramingRejectsAsync(backup, artifact, cutInFrame)).Message);

        var dropped = bytes[..FrameStart(1)].Concat(bytes[FrameStart(2)..]).ToArray();
        Assert.Contains("frame 1 (not final) fails authentication", (await FramingRejectsAsync(backup, artifact, dropped)).Message);

        var reordered = bytes[..FrameStart(1)].Concat(bytes[FrameStart(2)..FrameStart(3)]).Concat(bytes[FrameStart(1)..FrameStart(2)]).Concat(bytes[FrameStart(3)..]).ToArray();
        Assert.Contains("frame 1 (not final) fails authentication", (await FramingRejectsAsync(backup, artifact, reordered)).Message);

        var trailing = bytes.Concat(new byte[] { 1, 2, 3 }).ToArray();
        Assert.Contains("fails authentication", (await FramingRejectsAsync(backup, artifact, trailing)).Message);
    }

    [Fact]
    public async Task ArtifactSwappedInFromAnotherBackupIsRejected()
    {
        var (first, artifact, file) = await OneAsync();
        await Task.Delay(1100);
        var (_, _, otherFile) = await OneAsync();
        var other = await File.ReadAllBytesAsync(otherFile);
        File.Copy(otherFile, file, overwrite: true);

        var report = await BackupVerifier.VerifyAsync(_repo.Context, "docs", first.Id, deep: false, null, CancellationToken.None);
        Assert.Equal(ErrorIds.ArtifactHashMismatch, report.Artifacts.Single().ErrorId);
        var deep = await BackupVerifier.VerifyAsync(_repo.Context, "docs", first.Id, deep: true, null, CancellationToken.None);
        Assert.Equal(ErrorIds.ArtifactCorrupt, deep.Artifacts.Single().ErrorId);
        var framing = await FramingRejectsAsync(first, artifact, other);
        Assert.Contains("frame 0", framing.Message);
    }

    [Theory]
    [InlineData(2, "\"kind\": \"docs\"", "\"kind\": \"mysql-full\"")]
    [InlineData(2, "\"binlogPosition\": 4242", "\"binlogPosition\": 4243")]
    [InlineData(2, "\"storedSize\": ", "\"storedSize\": 1")]
    [InlineData(2, "\"ciphertext\": \"", "\"ciphertext\": \"A")]
    [InlineData(1, "\"kind\": \"docs\"", "\"kind\": \"mysql-full\"")]
    [InlineData(1, "\"binlogPosition\": 4242", "\"binlogPosition\": 4243")]
    [InlineData(1, "\"plainSize\": 20580", "\"plainSize\": 20581")]
    public async Task EditedManifestFieldBreaksTheSignature(int format, string find, string replace)
    {
        var (backup, _, _) = await OneAsync(format: format);
        var manifestPath = _repo.PathOf(backup.Prefix + "manifest.json");
        var text = await File.ReadAllTextAsync(manifestPath);
        Assert.Contains(find, text);
        await File.WriteAllTextAsync(manifestPath, text.Replace(find, replace));

        var listed = Assert.Single(await BackupCatalog.ListAsync(_repo.Context, null, CancellationToken.None));
        Assert.Equal(BackupStatus.Invalid, listed.Status);
        Assert.Contains("edited after signing", listed.Problem);
        var ex = await Assert.ThrowsAsync<EcomDrException>(() => BackupCatalog.GetAsync(_repo.Context, backup.Id, CancellationToken.None));
        Assert.Equal(ErrorIds.ManifestInvalid, ex.ErrorId);
        var report = await BackupVerifier.VerifyAsync(_repo.Context, "docs", backup.Id, deep: false, null, CancellationToken.None);
        Assert.Equal(ErrorIds.ManifestSignatureInvalid, report.ManifestErrorId);
    }

    [Fact]
    public async Task RemovedSignatureAndUnknownSignerAreRefused()
    {
        var (backup, _, _) = await OneAsync();
        var manifestPath = _repo.PathOf(backup.Prefix + "manifest.json");
        var original = await File.ReadAllTextAsync(manifestPath);

        var unsigned = original[..original.IndexOf(",\n\"signature\"", StringComparison.Ordinal)] + "\n}\n";
        await File.WriteAllTextAsync(manifestPath, unsigned);
        var report = await BackupVerifier.VerifyAsync(_repo.Context, "docs", backup.Id, deep: false, null, CancellationToken.None);
        Assert.Equal(ErrorIds.ManifestUnsigned, report.ManifestErrorId);

        await File.WriteAllTextAsync(manifestPath, original);
        var stranger = new TrustedKeys();
        using var otherKey = LocalKeyFile.Create(Path.Join(_repo.Root, "other.key"));
        stranger.Add(otherKey);
        var untrusted = await BackupVerifier.VerifyAsync(_repo.Context with { Trust = stranger }, "docs", backup.Id, deep: false, null, CancellationToken.None);
        Assert.Equal(ErrorIds.UntrustedSigner, untrusted.ManifestErrorId);

        // An auditor with only the public key file verifies the untouched manifest.
        var auditor = new TrustedKeys();
        auditor.AddPublicKeyFile(_repo.Key.PublicKeyPath);
        var audited = await BackupVerifier.VerifyAsync(new RepositoryContext(_repo.Store, "prod", Array.Empty<IKeyProvider>(), auditor), "docs", backup.Id, deep: false, null, CancellationToken.None);
        Assert.Equal(IntegrityStatus.Passed, audited.Status);
    }

    [Fact]
    public async Task WrongKeyIsItsOwnError()
    {
        var (backup, artifact, _) = await OneAsync();
        using var otherKey = LocalKeyFile.Create(Path.Join(_repo.Root, "wrong.key"));
        var ex = await Assert.ThrowsAsync<EcomDrException>(() =>
            ArtifactReader.OpenAsync(_repo.Store, backup.Prefix + artifact.Path, artifact, new IKeyProvider[] { otherKey }, CancellationToken.None));
        Assert.Equal(ErrorIds.WrongKey, ex.ErrorId);
        Assert.Contains(_repo.Key.KeyId, ex.Message);

        // A forged wrapped key under the right key id fails authentication, not silently.
        var forged = new WrappedKey(LocalKeyFile.ProviderName, _repo.Key.KeyId, Convert.ToBase64String(RandomNumberGenerator.GetBytes(60)));
        var unwrap = await Assert.ThrowsAsync<EcomDrException>(() => _repo.Key.UnwrapAsync(forged, CancellationToken.None));
        Assert.Equal(ErrorIds.WrongKey, unwrap.ErrorId);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void KeyFileIsOwnerOnlyNeverOverwrittenAndRefusedWhenExposed()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_repo.Key.Path));
        var exists = Assert.Throws<EcomDrException>(() => LocalKeyFile.Create(_repo.Key.Path));
        Assert.Equal(ErrorIds.KeyExists, exists.ErrorId);
        File.SetUnixFileMode(_repo.Key.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var exposed = Assert.Throws<EcomDrException>(() => LocalKeyFile.Load(_repo.Key.Path));
        Assert.Equal(ErrorIds.KeyInvalid, exposed.ErrorId);
        File.SetUnixFileMode(_repo.Key.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var loaded = LocalKeyFile.Load(_repo.Key.Path);
        Assert.Equal((_repo.Key.KeyId, _repo.Key.SigningKeyId), (loaded.KeyId, loaded.SigningKeyId));
        Assert.DoesNotContain("aesKey", File.ReadAllText(_repo.Key.PublicKeyPath));
    }
}
