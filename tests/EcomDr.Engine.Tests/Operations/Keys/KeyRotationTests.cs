using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Operations.Keys;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Prerequisites;
using EcomDr.Engine.Tests.Pipeline.Repository;

namespace EcomDr.Engine.Tests.Operations.Keys;

/// <summary>
/// Local key versions and the re-wrap rotation (Update-DrKey) on a real file-system repository: what
/// older versions wrapped stays readable, a rotation moves every manifest to the current version
/// without touching an artifact, and a removed version's signatures still verify.
/// </summary>
public sealed class KeyRotationTests : IDisposable
{
    private readonly RepoFixture _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task AKeyFileOfTheFirstFormatLoadsAsVersion1AndANewVersionKeepsItReadable()
    {
        var path = Path.Join(_repo.Root, "first-format.key");
        var aes = RandomNumberGenerator.GetBytes(32);
        using var signing = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var json = new JsonObject
        {
            ["format"] = "ecomdr-key/1", ["created"] = "2026-01-02T03:04:05+00:00",
            ["aesKey"] = Convert.ToBase64String(aes), ["signingKey"] = Convert.ToBase64String(signing.ExportPkcs8PrivateKey()),
        };
        File.WriteAllText(path, json.ToJsonString(), new UTF8Encoding(false));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        using var first = LocalKeyFile.Load(path);
        Assert.Equal(1, first.CurrentVersion);
        Assert.Equal(LocalKeyVersion.IdOf(aes), first.KeyId);
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var wrappedByFirst = await first.WrapAsync(dataKey, CancellationToken.None);

        using var second = first.AddVersion();
        Assert.Equal(2, second.CurrentVersion);
        Assert.NotEqual(first.KeyId, second.KeyId);
        Assert.NotEqual(first.SigningKeyId, second.SigningKeyId);

        using var reloaded = LocalKeyFile.Load(path);
        Assert.Equal(new[] { 1, 2 }, reloaded.Versions.Select(v => v.Version));
        Assert.Equal(second.KeyId, reloaded.KeyId);
        Assert.Equal(dataKey, await reloaded.UnwrapAsync(wrappedByFirst, CancellationToken.None));
        var wrappedBySecond = await reloaded.WrapAsync(dataKey, CancellationToken.None);
        Assert.Equal(second.KeyId, wrappedBySecond.KeyId);
        Assert.Equal(2, reloaded.VersionOf(wrappedBySecond));
        Assert.Equal(1, reloaded.VersionOf(wrappedByFirst));

        // Still owner-only, replaced in place, no temporary file left beside it.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(new[] { "first-format.key", "first-format.key.pub.pem" }, Directory.GetFiles(_repo.Root).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // The public file vouches for both signing keys, the current one first.
        var fromPublic = new TrustedKeys();
        fromPublic.AddPublicKeyFile(reloaded.PublicKeyPath);
        Assert.Equal(2, fromPublic.Count);
        Assert.NotNull(fromPublic.Find(first.SigningKeyId));
        Assert.Equal(reloaded.SigningKeyId, PublicSigningKey.ReadAll(File.ReadAllText(reloaded.PublicKeyPath), "pub")[0].KeyId);
    }

    [Fact]
    public async Task TestDrPrerequisiteWarnsOfAKeyOlderThanRotateDays()
    {
        var config = Engine.Config.ConfigLoader.Parse($$"""
            { "schemaVersion": 1, "environments": { "prod": { "mysql": { "server": "db" }, "repositories": { "primary": { "path": "repo" } },
              "keys": [ { "path": "{{_repo.Key.Path}}", "rotateDays": 30 } ] } } }
            """, Path.Join(_repo.Root, "ecomdr.json")).GetEnvironment("prod");
        var fresh = Assert.Single(await KeyPrerequisites.RunAsync(config, null, _repo.Key.Created.AddDays(29), CancellationToken.None));
        Assert.Equal((CheckStatus.Pass, "Key localFile"), (fresh.Status, fresh.Check));
        Assert.StartsWith($"version 1 ({_repo.Key.KeyId}), 29 day(s) old", fresh.Observed, StringComparison.Ordinal);
        var due = Assert.Single(await KeyPrerequisites.RunAsync(config, null, _repo.Key.Created.AddDays(31), CancellationToken.None));
        Assert.Equal(CheckStatus.Warn, due.Status);
        Assert.Contains("Update-DrKey -NewVersion", due.Remediation, StringComparison.Ordinal);

        // After a rotation the age is the new version's.
        using var rotated = _repo.Key.AddVersion();
        var after = Assert.Single(await KeyPrerequisites.RunAsync(config, null, rotated.Created.AddDays(1), CancellationToken.None));
        Assert.StartsWith($"version 2 ({rotated.KeyId}), 1 day(s) old", after.Observed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RewrapMovesEveryBackupToTheCurrentVersionWithoutTouchingAnArtifactAndIsIdempotent()
    {
        var contents = new Dictionary<string, byte[]>();
        for (var i = 0; i < 6; i++)
        {
            // One in the plain format of version 1: it is re-signed in its own format.
            _repo.Context = _repo.Context with { ManifestVersion = i == 0 ? BackupManifest.PlainSchemaVersion : BackupManifest.SealedSchemaVersion };
            var a = RandomNumberGenerator.GetBytes(3000 + i);
            var b = RepoFixture.DumpLikeText(20_000, seed: i);
            var backup = await _repo.BackupAsync("docs", ("a.bin", a), ("b.sql", b));
            contents[backup.Id + "/a.bin"] = a;
            contents[backup.Id + "/b.sql"] = b;
        }

        var storedBefore = StoredArtifactHashes();
        var oldSigner = _repo.Key.SigningKeyId;
        using var rotated = _repo.Key.AddVersion();
        var context = ContextOf(rotated);

        var check = await KeyRewrap.RunAsync(context, checkOnly: true, null, CancellationToken.None);
        Assert.Equal((6, 0, 0, 6), (check.Manifests, check.Rewrapped, check.AlreadyCurrent, check.Pending));
        var before = Assert.Single(check.Usage);
        Assert.Equal((LocalKeyFile.ProviderName, 1, false, 6, _repo.Key.KeyId), (before.Provider, before.Version, before.Current, before.Backups, before.KeyId));
        Assert.All(ManifestFiles(), f => Assert.Contains(oldSigner, File.ReadAllText(f)));   // a check writes nothing

        var run = await KeyRewrap.RunAsync(context, checkOnly: false, null, CancellationToken.None);
        Assert.Equal((6, 6, 0, 0), (run.Manifests, run.Rewrapped, run.AlreadyCurrent, run.Pending));
        Assert.Empty(run.Unreadable);
        var after = Assert.Single(run.Usage);
        Assert.Equal((2, true, 6, rotated.KeyId), (after.Version, after.Current, after.Backups, after.KeyId));
        Assert.Equal(storedBefore, StoredArtifactHashes());
        Assert.All(ManifestFiles(), f => Assert.Contains(rotated.SigningKeyId, File.ReadAllText(f)));

        var again = await KeyRewrap.RunAsync(context, checkOnly: false, null, CancellationToken.None);
        Assert.Equal((6, 0, 6, 0), (again.Manifests, again.Rewrapped, again.AlreadyCurrent, again.Pending));

        // With version 1 gone every backup still lists, verifies and opens: nothing needs it any more.
        using var pruned = rotated.RemoveVersions(new HashSet<int> { 1 });
        Assert.Equal(new[] { 2 }, pruned.Versions.Select(v => v.Version));
        Assert.Equal(1, Assert.Single(pruned.Retired).Version);
        var prunedContext = ContextOf(pruned);
        var backups = await BackupCatalog.ListAsync(prunedContext, null, CancellationToken.None);
        Assert.Equal(6, backups.Count(b => b.Status == BackupStatus.Complete));
        Assert.Contains(backups, b => b.Manifest!.SchemaVersion == BackupManifest.PlainSchemaVersion);
        foreach (var backup in backups)
        {
            foreach (var artifact in backup.Manifest!.Artifacts)
            {
                await using var stream = await ArtifactReader.OpenAsync(_repo.Store, backup.Prefix + artifact.Path, artifact, prunedContext.KeyProviders, CancellationToken.None);
                using var plain = new MemoryStream();
                await stream.CopyToAsync(plain);
                Assert.Equal(contents[backup.Id + "/" + artifact.Name], plain.ToArray());
            }
        }

        Assert.Throws<ArgumentException>(() => pruned.RemoveVersions(new HashSet<int> { 2 }));
    }

    [Fact]
    public async Task ARemovedVersionNoLongerUnwrapsButWhatItSignedStillVerifies()
    {
        var backup = await _repo.BackupAsync("docs", ("a.bin", new byte[] { 1, 2, 3 }));
        using var rotated = _repo.Key.AddVersion();
        using var pruned = rotated.RemoveVersions(new HashSet<int> { 1 });
        var context = ContextOf(pruned);

        // Signed by version 1, which is retired: the signature verifies, the sealed part does not open.
        var listed = Assert.Single(await BackupCatalog.ListAsync(context, null, CancellationToken.None));
        Assert.Equal(BackupStatus.Complete, listed.Status);
        Assert.True(listed.Manifest!.Sealed);
        var wrapped = backup.Manifest!.Artifacts[0].Encryption.Keys.Single();
        var wrong = await Assert.ThrowsAsync<EcomDrException>(() => pruned.UnwrapAsync(wrapped, CancellationToken.None));
        Assert.Equal(ErrorIds.WrongKey, wrong.ErrorId);

        // A rotation that cannot open it says so and leaves it as it was.
        var manifest = ManifestFiles().Single();
        var bytes = File.ReadAllBytes(manifest);
        var run = await KeyRewrap.RunAsync(context, checkOnly: false, null, CancellationToken.None);
        Assert.Equal(0, run.Rewrapped);
        Assert.Contains("no key at hand opens its sealed part", Assert.Single(run.Unreadable));
        Assert.Equal(bytes, File.ReadAllBytes(manifest));
    }

    [Fact]
    public async Task ATamperedManifestIsReportedAndLeftAloneWhileTheOthersAreRewrapped()
    {
        await _repo.BackupAsync("docs", ("a.bin", new byte[] { 1 }));
        await _repo.BackupAsync("docs", ("a.bin", new byte[] { 2 }));
        var tampered = ManifestFiles().Order(StringComparer.Ordinal).First();
        var text = File.ReadAllText(tampered).Replace("\"docs\"", "\"infra\"", StringComparison.Ordinal);
        File.WriteAllText(tampered, text);
        using var rotated = _repo.Key.AddVersion();

        var run = await KeyRewrap.RunAsync(ContextOf(rotated), checkOnly: false, null, CancellationToken.None);
        Assert.Equal((2, 1), (run.Manifests, run.Rewrapped));
        Assert.Contains("signature", Assert.Single(run.Unreadable), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(text, File.ReadAllText(tampered));
    }

    private RepositoryContext ContextOf(LocalKeyFile key)
    {
        var trust = new TrustedKeys();
        trust.Add(key);
        return new RepositoryContext(_repo.Store, "prod", new IKeyProvider[] { key }, trust, key, _repo.Context.Artifacts);
    }

    private string[] ManifestFiles() => Directory.GetFiles(_repo.Store.Root, RepositoryLayout.ManifestName, SearchOption.AllDirectories);

    private Dictionary<string, string> StoredArtifactHashes() =>
        Directory.GetFiles(_repo.Store.Root, "*.edr", SearchOption.AllDirectories)
            .ToDictionary(f => f, f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));
}
