using System.Security.Cryptography;
using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Operations.Keys;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Prerequisites;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Pipeline.Crypto;

/// <summary>
/// AWS KMS as a key provider, through AWSSDK.KeyManagementService against the test kit's stand-in of
/// the documented JSON API (no KMS here; docs/testing.md): GenerateDataKey, Encrypt, Decrypt with the
/// encryption context, ReEncrypt to another key, and KMS's refusals as clear errors.
/// </summary>
public sealed class AwsKmsKeyTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ecomdr-kms-").FullName;
    private readonly string _access = "ECOMDR_TEST_KMS_ACCESS_" + Guid.NewGuid().ToString("N");
    private readonly string _secret = "ECOMDR_TEST_KMS_SECRET_" + Guid.NewGuid().ToString("N");
    private KmsStandIn _kms = null!;

    public Task InitializeAsync()
    {
        _kms = KmsStandIn.Start();
        Environment.SetEnvironmentVariable(_access, "AKIAEXAMPLEEXAMPLE00");
        Environment.SetEnvironmentVariable(_secret, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        Environment.SetEnvironmentVariable(_access, null);
        Environment.SetEnvironmentVariable(_secret, null);
        await _kms.DisposeAsync();
        Directory.Delete(_folder, true);
    }

    private AwsKmsKey Key(string keyId) => AwsKmsKey.Create(new KmsKeyConfig(keyId, KmsStandIn.Region, _kms.Endpoint.ToString(), _access, _secret));

    [Fact]
    public async Task GeneratesWrapsAndUnwrapsDataKeysUnderTheEncryptionContext()
    {
        _kms.CreateKey("ecomdr-backups");
        using var key = Key("alias/ecomdr-backups");
        var (dataKey, wrapped) = await key.NewDataKeyAsync(CancellationToken.None);
        Assert.Equal(32, dataKey.Length);
        Assert.Equal((AwsKmsKey.ProviderName, "alias/ecomdr-backups"), (wrapped.Provider, wrapped.KeyId));
        Assert.Equal(dataKey, await key.UnwrapAsync(wrapped, CancellationToken.None));

        var mine = RandomNumberGenerator.GetBytes(32);
        var encrypted = await key.WrapAsync(mine, CancellationToken.None);
        Assert.Equal(mine, await key.UnwrapAsync(encrypted, CancellationToken.None));
        Assert.Equal(new[] { "TrentService.GenerateDataKey", "TrentService.Decrypt", "TrentService.Encrypt", "TrentService.Decrypt" }, _kms.Operations);

        // A blob that is not one, and a key KMS refuses: clear errors naming the key, nothing else.
        var garbage = await Assert.ThrowsAsync<EcomDrException>(() => key.UnwrapAsync(wrapped with { Wrapped = Convert.ToBase64String(new byte[80]) }, CancellationToken.None));
        Assert.Equal(ErrorIds.WrongKey, garbage.ErrorId);
        using var missing = Key("alias/nope");
        Assert.Equal(ErrorIds.KeyNotFound, (await Assert.ThrowsAsync<EcomDrException>(() => missing.WrapAsync(mine, CancellationToken.None))).ErrorId);
        _kms.Deny("alias/ecomdr-backups");
        var denied = await Assert.ThrowsAsync<EcomDrException>(() => key.UnwrapAsync(wrapped, CancellationToken.None));
        Assert.Equal((ErrorIds.PermissionDenied, FailureKind.PermissionDenied), (denied.ErrorId, denied.Kind));
        Assert.DoesNotContain(Convert.ToBase64String(dataKey), denied.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABackupWrappedByAnOldKmsKeyIsReEncryptedToTheNewOneInsideKms()
    {
        var oldArn = _kms.CreateKey();
        _kms.CreateKey("ecomdr-2027");
        using (LocalKeyFile.Create(Path.Join(_folder, "prod.key")))
        {
        }

        BackupInfo written;
        using (var opened = OpenedRepository.Open(Config(oldArn), null, new RepositoryRequest(ForWriting: true)))
        {
            await using var writer = await BackupWriter.BeginAsync(opened.Context, "docs", null, CancellationToken.None);
            await writer.AddArtifactAsync("a.bin", (s, ct) => s.WriteAsync(new byte[] { 4, 2 }, ct).AsTask(), CancellationToken.None);
            written = await writer.CompleteAsync(CancellationToken.None);
        }

        // The KMS key generated the data key; the local key wrapped the same key too.
        Assert.Equal(new[] { LocalKeyFile.ProviderName, AwsKmsKey.ProviderName }, written.Manifest!.Artifacts[0].Encryption.Keys.Select(k => k.Provider));
        Assert.Contains("TrentService.GenerateDataKey", _kms.Operations);

        using var rotated = OpenedRepository.Open(Config("alias/ecomdr-2027"), null, new RepositoryRequest(ForWriting: true));
        var check = await KeyRewrap.RunAsync(rotated.Context, checkOnly: true, null, CancellationToken.None);
        Assert.Equal(1, check.Pending);
        Assert.Contains(check.Usage, u => u.Provider == AwsKmsKey.ProviderName && u.KeyId == oldArn && !u.Current);

        var run = await KeyRewrap.RunAsync(rotated.Context, checkOnly: false, null, CancellationToken.None);
        Assert.Equal(1, run.Rewrapped);
        Assert.Contains("TrentService.ReEncrypt", _kms.Operations);
        Assert.Contains(run.Usage, u => u.Provider == AwsKmsKey.ProviderName && u.KeyId == "alias/ecomdr-2027" && u.Current);

        // The old KMS key can go: KMS alone (without the local key) still opens the backup.
        _kms.Deny(oldArn);
        var manifest = (await BackupCatalog.ListAsync(rotated.Context, "docs", CancellationToken.None)).Single().Manifest!;
        var kmsOnly = rotated.Context.KeyProviders.OfType<AwsKmsKey>().ToArray();
        var artifact = manifest.Artifacts.Single();
        await using var stream = await ArtifactReader.OpenAsync(rotated.Context.Store, written.Prefix + artifact.Path, artifact, kmsOnly, CancellationToken.None);
        using var plain = new MemoryStream();
        await stream.CopyToAsync(plain);
        Assert.Equal(new byte[] { 4, 2 }, plain.ToArray());
    }

    [Fact]
    public async Task TestDrPrerequisiteMakesAndOpensADataKeyAndSaysWhatKmsRefused()
    {
        var arn = _kms.CreateKey();
        using (LocalKeyFile.Create(Path.Join(_folder, "prod.key")))
        {
        }

        var env = Config(arn).GetEnvironment("prod");
        var results = await KeyPrerequisites.RunAsync(env, null, DateTimeOffset.UtcNow, CancellationToken.None);
        var kms = results.Single(r => r.Check == $"Key awsKms {arn}");
        Assert.Equal((CheckStatus.Pass, "a data key made and opened"), (kms.Status, kms.Observed));
        Assert.Equal(new[] { "TrentService.GenerateDataKey", "TrentService.Decrypt" }, _kms.Operations);

        _kms.Deny(arn);
        var denied = (await KeyPrerequisites.RunAsync(env, null, DateTimeOffset.UtcNow, CancellationToken.None)).Single(r => r.Check == $"Key awsKms {arn}");
        Assert.Equal(CheckStatus.Fail, denied.Status);
        Assert.Contains("AccessDeniedException", denied.Observed, StringComparison.Ordinal);
        Assert.Contains("kms:GenerateDataKey", denied.Remediation, StringComparison.Ordinal);
    }

    private EcomDrConfig Config(string keyId) => ConfigLoader.Parse($$"""
        { "schemaVersion": 1, "environments": { "prod": {
            "mysql": { "server": "db" },
            "repositories": { "primary": { "path": "repo" } },
            "keys": [ { "type": "localFile", "path": "prod.key" },
                      { "type": "awsKms", "keyId": "{{keyId}}", "region": "{{KmsStandIn.Region}}", "endpoint": "{{_kms.Endpoint}}",
                        "accessKeyEnv": "{{_access}}", "secretKeyEnv": "{{_secret}}" } ] } } }
        """, Path.Join(_folder, "ecomdr.json"));
}
