using System.Security.Cryptography;
using EcomDr.Engine.Config;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Operations.Keys;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Pipeline.Storage;
using EcomDr.Engine.Vault;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Vault;

/// <summary>
/// Vault Transit as a key provider, against the test kit's stand-in (no Vault here; docs/testing.md):
/// wrap, unwrap and rewrap by the documented requests, the key version in the wrapped form, a
/// repository whose data keys only Transit wraps, its rotation, min_decryption_version, and the
/// configuration's refusal of a Vault export protected only by that Vault's own Transit key.
/// </summary>
public sealed class TransitKeyTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ecomdr-transit-").FullName;
    // A variable of this instance's own: tests in parallel never see each other's token.
    private readonly string _tokenVariable = "ECOMDR_TEST_TRANSIT_" + Guid.NewGuid().ToString("N");
    private VaultStandIn _vault = null!;

    public Task InitializeAsync()
    {
        _vault = VaultStandIn.Start();
        _vault.AddTransitKey("transit", "ecomdr");
        Environment.SetEnvironmentVariable(_tokenVariable, VaultStandIn.Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        Environment.SetEnvironmentVariable(_tokenVariable, null);
        await _vault.DisposeAsync();
        Directory.Delete(_folder, true);
    }

    private VaultTransitKey Key(string name = "ecomdr") => new("transit", name, _vault.Address,
        _ => Task.FromResult(new VaultConnection(VaultHttp.For(null, true), _vault.Address, new Secret(VaultStandIn.Token)) { RetryBase = TimeSpan.FromMilliseconds(5) }));

    [Fact]
    public async Task WrapsUnwrapsAndRewrapsInVaultWithTheKeyVersionInTheWrappedForm()
    {
        using var key = Key();
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var wrapped = await key.WrapAsync(dataKey, CancellationToken.None);
        Assert.Equal((VaultTransitKey.ProviderName, "transit/ecomdr"), (wrapped.Provider, wrapped.KeyId));
        Assert.StartsWith("vault:v1:", wrapped.Wrapped, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(dataKey), wrapped.Wrapped, StringComparison.Ordinal);
        Assert.Equal(dataKey, await key.UnwrapAsync(wrapped, CancellationToken.None));

        Assert.Equal(2, _vault.RotateTransitKey("transit", "ecomdr"));
        await key.RefreshAsync(CancellationToken.None);
        Assert.Equal((2, 1), (key.CurrentVersion, key.VersionOf(wrapped)));
        var decrypts = _vault.TransitCalls("decrypt");
        var rewrapped = await key.RewrapAsync(wrapped, CancellationToken.None);
        Assert.Equal(_vault.TransitCalls("decrypt"), decrypts);   // the data key never left Vault
        Assert.StartsWith("vault:v2:", rewrapped.Wrapped, StringComparison.Ordinal);
        Assert.Equal(dataKey, await key.UnwrapAsync(rewrapped, CancellationToken.None));

        // Raised past version 1: Transit refuses it and says what to do.
        _vault.SetMinDecryptionVersion("transit", "ecomdr", 2);
        var refused = await Assert.ThrowsAsync<EcomDrException>(() => key.UnwrapAsync(wrapped, CancellationToken.None));
        Assert.Equal(ErrorIds.WrongKey, refused.ErrorId);
        Assert.Contains("min_decryption_version", refused.Message, StringComparison.Ordinal);
        Assert.Null(key.VersionOf(new WrappedKey(LocalKeyFile.ProviderName, "transit/ecomdr", wrapped.Wrapped)));
    }

    [Fact]
    public async Task AnUnknownKeyOrAWrongTokenIsAClearErrorBeforeAnythingIsWrapped()
    {
        using var missing = Key("nope");
        var ex = await Assert.ThrowsAsync<EcomDrException>(() => missing.RefreshAsync(CancellationToken.None));
        Assert.Equal(ErrorIds.KeyNotFound, ex.ErrorId);
        Assert.Contains("vault write -f transit/keys/nope", ex.Message, StringComparison.Ordinal);

        using var stranger = new VaultTransitKey("transit", "ecomdr", _vault.Address,
            _ => Task.FromResult(new VaultConnection(VaultHttp.For(null, true), _vault.Address, new Secret("hvs.wrong-token"))));
        var denied = await Assert.ThrowsAsync<EcomDrException>(() => stranger.WrapAsync(new byte[32], CancellationToken.None));
        Assert.Equal(FailureKind.PermissionDenied, denied.Kind);
        Assert.DoesNotContain("hvs.wrong-token", denied.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARepositoryWrappedOnlyByTransitIsRotatedWithRewrapAndStaysReadable()
    {
        // The local key signs only: every data key is wrapped by Transit alone.
        var config = Config(_tokenVariable, localWraps: false, withVaultSource: false);
        using (LocalKeyFile.Create(Path.Join(_folder, "prod.key")))
        {
        }

        var parts = new Dictionary<string, byte[]>();
        using (var writer = OpenedRepository.Open(config, null, new RepositoryRequest(ForWriting: true)))
        {
            for (var i = 0; i < 3; i++)
            {
                await using var backup = await BackupWriter.BeginAsync(writer.Context, "docs", null, CancellationToken.None);
                var data = RandomNumberGenerator.GetBytes(1000 + i);
                await backup.AddArtifactAsync("a.bin", (s, ct) => s.WriteAsync(data, ct).AsTask(), CancellationToken.None);
                var info = await backup.CompleteAsync(CancellationToken.None);
                parts[info.Id] = data;
                Assert.All(info.Manifest!.Artifacts.SelectMany(a => a.Encryption.Keys), k => Assert.Equal(VaultTransitKey.ProviderName, k.Provider));
            }
        }

        _vault.RotateTransitKey("transit", "ecomdr");
        using var opened = OpenedRepository.Open(config, null, new RepositoryRequest(ForWriting: true));
        var check = await KeyRewrap.RunAsync(opened.Context, checkOnly: true, null, CancellationToken.None);
        Assert.Equal(3, check.Pending);
        Assert.Equal("vaultTransit transit/ecomdr v1: 3", Assert.Single(check.Usage).ToString());
        Assert.Contains("min_decryption_version may be raised to 1", Assert.Single(check.Notes).Message, StringComparison.Ordinal);

        var rewraps = _vault.TransitCalls("rewrap");
        var run = await KeyRewrap.RunAsync(opened.Context, checkOnly: false, null, CancellationToken.None);
        Assert.Equal((3, 0), (run.Rewrapped, run.Unreadable.Count));
        Assert.Equal(rewraps + 3, _vault.TransitCalls("rewrap"));   // one per artifact data key
        Assert.Equal("vaultTransit transit/ecomdr v2 (current): 3", Assert.Single(run.Usage).ToString());

        // Version 1 can now be retired in Vault: every backup still opens, through Transit only.
        _vault.SetMinDecryptionVersion("transit", "ecomdr", 2);
        using var reader = OpenedRepository.Open(config, null, new RepositoryRequest());
        var listed = await BackupCatalog.ListAsync(reader.Context, "docs", CancellationToken.None);
        Assert.Equal(3, listed.Count(b => b.Status == BackupStatus.Complete && !b.Manifest!.Sealed));
        foreach (var backup in listed)
        {
            var artifact = backup.Manifest!.Artifacts.Single();
            await using var stream = await ArtifactReader.OpenAsync(reader.Context.Store, backup.Prefix + artifact.Path, artifact, reader.Context.KeyProviders, CancellationToken.None);
            using var plain = new MemoryStream();
            await stream.CopyToAsync(plain);
            Assert.Equal(parts[backup.Id], plain.ToArray());
        }
    }

    [Fact]
    public async Task AVersionTransitNoLongerOpensIsReportedAndRewrappedFromTheLocalKey()
    {
        var config = Config(_tokenVariable, localWraps: true, withVaultSource: false);
        using (LocalKeyFile.Create(Path.Join(_folder, "prod.key")))
        {
        }

        using var opened = OpenedRepository.Open(config, null, new RepositoryRequest(ForWriting: true));
        await using (var backup = await BackupWriter.BeginAsync(opened.Context, "docs", null, CancellationToken.None))
        {
            await backup.AddArtifactAsync("a.bin", (s, ct) => s.WriteAsync(new byte[] { 1, 2, 3 }, ct).AsTask(), CancellationToken.None);
            await backup.CompleteAsync(CancellationToken.None);
        }

        // Someone raised min_decryption_version past what the backup carries.
        _vault.RotateTransitKey("transit", "ecomdr");
        _vault.SetMinDecryptionVersion("transit", "ecomdr", 2);
        var check = await KeyRewrap.RunAsync(opened.Context, checkOnly: true, null, CancellationToken.None);
        var note = Assert.Single(check.Notes);
        Assert.True(note.Problem);
        Assert.Contains("1 backup(s) carry data keys under older versions", note.Message, StringComparison.Ordinal);

        var run = await KeyRewrap.RunAsync(opened.Context, checkOnly: false, null, CancellationToken.None);
        Assert.Equal(1, run.Rewrapped);
        Assert.Contains(run.Usage, u => u.ToString() == "vaultTransit transit/ecomdr v2 (current): 1");
        Assert.False(Assert.Single(run.Notes).Problem);
    }

    [Fact]
    public void AVaultExportProtectedOnlyByThatVaultsTransitKeyIsRefused()
    {
        var refused = Assert.Throws<EcomDrException>(() => Config("VAULT_TOKEN", localWraps: false, withVaultSource: true));
        Assert.Equal(ErrorIds.ConfigInvalid, refused.ErrorId);
        Assert.Contains("would be protected only by that Vault's own Transit key", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Add a localFile key that wraps, an rsaPublicKey break-glass key, or a key outside that Vault", refused.Message, StringComparison.Ordinal);

        // A local key that wraps too, or a Transit key in another Vault, protects it.
        Assert.NotNull(Config("VAULT_TOKEN", localWraps: true, withVaultSource: true));
        Assert.NotNull(Config("VAULT_TOKEN", localWraps: false, withVaultSource: true, ownVault: "http://127.0.0.1:1/"));

        var nothing = Assert.Throws<EcomDrException>(() => ConfigLoader.Parse("""
            { "schemaVersion": 1, "environments": { "prod": { "mysql": { "server": "db" }, "repositories": { "primary": { "path": "r" } },
              "keys": [ { "path": "k", "wrap": false } ] } } }
            """, Path.Join(_folder, "nothing.json")));
        Assert.Contains("no key provider wraps data keys", nothing.Message, StringComparison.Ordinal);
    }

    private EcomDrConfig Config(string tokenVariable, bool localWraps, bool withVaultSource, string? ownVault = null)
    {
        var server = $$"""{ "address": "{{_vault.Address}}", "auth": { "method": "token", "tokenEnv": "{{tokenVariable}}" } }""";
        var vault = withVaultSource
            ? $$"""{ "address": "{{_vault.Address}}", "auth": { "method": "token", "tokenEnv": "{{tokenVariable}}" }, "mounts": [ { "mount": "secret" } ] }"""
            : server;
        var transitVault = ownVault is null ? (withVaultSource ? "" : $$""", "vault": {{server}}""") : $$""", "vault": { "address": "{{ownVault}}" }""";
        var json = $$"""
            { "schemaVersion": 1, "environments": { "prod": {
                "mysql": { "server": "db" },
                {{(withVaultSource ? $$""" "vault": {{vault}}, """ : "")}}
                "repositories": { "primary": { "path": "repo" } },
                "keys": [ { "type": "localFile", "path": "prod.key", "wrap": {{(localWraps ? "true" : "false")}} },
                          { "type": "vaultTransit", "key": "ecomdr"{{transitVault}} } ] } } }
            """;
        return ConfigLoader.Parse(json, Path.Join(_folder, "ecomdr.json"));
    }
}
