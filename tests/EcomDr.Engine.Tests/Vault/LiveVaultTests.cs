using System.Text;
using System.Text.Json;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Sources.Vault;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.Engine.Vault;

namespace EcomDr.Engine.Tests.Vault;

/// <summary>
/// Opt-in: the stand-in scenarios against a live Vault or OpenBao, when VAULT_ADDR and VAULT_TOKEN are
/// set (VAULT_NAMESPACE optional, ECOMDR_TEST_VAULT_MOUNT names a KV version 2 mount, default
/// "secret"). Everything is written under a fresh prefix and removed at the end. No Vault runs here, so
/// these are skipped visibly in CI (docs/testing.md).
/// </summary>
public sealed class LiveVaultTests : IDisposable
{
    private readonly RepoFixture _repo = new();
    private readonly string _prefix = $"ecomdr-live-{Guid.NewGuid():N}";

    public void Dispose() => _repo.Dispose();

    private static (VaultConnection Vault, string Mount)? Live()
    {
        var address = Environment.GetEnvironmentVariable("VAULT_ADDR");
        var token = Environment.GetEnvironmentVariable("VAULT_TOKEN");
        if (string.IsNullOrEmpty(address) || string.IsNullOrEmpty(token))
        {
            return null;
        }

        var vault = new VaultConnection(new HttpClient(), new Uri(address.EndsWith('/') ? address : address + "/"), new Secret(token),
            Environment.GetEnvironmentVariable("VAULT_NAMESPACE"));
        return (vault, Environment.GetEnvironmentVariable("ECOMDR_TEST_VAULT_MOUNT") is { Length: > 0 } m ? m : "secret");
    }

    [SkippableFact]
    public async Task Live_Vault_RoundTripOfVersionsMetadataAndDeletedAndDestroyedVersions()
    {
        var live = Live();
        Skip.If(live is null, "VAULT_ADDR and VAULT_TOKEN are not set: no live Vault to test against");
        var (vault, mount) = live!.Value;
        var kv = new KvV2(vault);
        await kv.CheckMountAsync(mount, CancellationToken.None);
        var paths = Enumerable.Range(0, 20).Select(i => $"{_prefix}/app{i % 2}/key{i:D2}").ToList();
        var digests = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            for (var i = 0; i < paths.Count; i++)
            {
                for (var v = 1; v <= 1 + (i % 3); v++)
                {
                    var data = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["password"] = $"live-{i}-v{v}-{Guid.NewGuid():N}" });
                    await kv.WriteAsync(mount, paths[i], data, v - 1, CancellationToken.None);
                    digests[paths[i]] = Convert.ToHexString(ValueDigest.Of(data));
                }

                var metadata = (await kv.ReadMetadataAsync(mount, paths[i], CancellationToken.None)) with
                {
                    CustomMetadata = new Dictionary<string, string> { ["owner"] = $"team{i % 3}" },
                    MaxVersions = 7,
                };
                await kv.WriteMetadataAsync(metadata, CancellationToken.None);
            }

            // An older version deleted, another destroyed: exported with their state, without a value.
            using (await vault.SendAsync(HttpMethod.Post, $"{mount}/delete/{paths[2]}", Encoding.UTF8.GetBytes("{\"versions\":[1]}"), CancellationToken.None))
            {
            }

            using (await vault.SendAsync(HttpMethod.Put, $"{mount}/destroy/{paths[5]}", Encoding.UTF8.GetBytes("{\"versions\":[1]}"), CancellationToken.None))
            {
            }

            var backup = (await SecretBackup.RunAsync(_repo.Context, kv, [new SecretSource(mount, _prefix)], allVersions: true, force: true, CancellationToken.None)).Backup;
            Assert.Equal(20, (int)backup.Manifest!.Source["secrets"]!);

            await RemoveAsync(vault, mount, paths);
            var plan = await SecretRestore.PlanAsync(_repo.Context, backup, kv, vault.Address, SecretSelection.All, 0, false, CancellationToken.None);
            Assert.Equal(20, plan.Changes.Count(c => c.Change == SecretChangeKind.Added));
            var applied = await SecretRestore.ApplyAsync(_repo.Context, plan, kv, plan.Changes.Select(c => c.FullPath).ToHashSet(), CancellationToken.None);
            Assert.All(applied, c => Assert.Equal(1, c.WrittenVersion));
            foreach (var path in paths)
            {
                var metadata = await kv.ReadMetadataAsync(mount, path, CancellationToken.None);
                var current = await kv.ReadVersionAsync(mount, path, metadata.CurrentVersion, CancellationToken.None);
                Assert.Equal(digests[path], Convert.ToHexString(ValueDigest.Of(current.Data!)));
                Assert.Equal(7, metadata.MaxVersions);
                Assert.StartsWith("team", metadata.CustomMetadata["owner"], StringComparison.Ordinal);
            }

            Assert.All((await SecretRestore.PlanAsync(_repo.Context, backup, kv, vault.Address, SecretSelection.All, 0, false, CancellationToken.None)).Changes,
                c => Assert.Equal(SecretChangeKind.Unchanged, c.Change));
        }
        finally
        {
            await RemoveAsync(vault, mount, paths);
        }
    }

    // DELETE metadata/: every version and the metadata of each secret.
    private static async Task RemoveAsync(VaultConnection vault, string mount, IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            using (await vault.SendAsync(HttpMethod.Delete, $"{mount}/metadata/{path}", null, CancellationToken.None))
            {
            }
        }
    }

    /// <summary>
    /// The Transit provider against a live Vault: a fresh key under ECOMDR_TEST_VAULT_TRANSIT_MOUNT
    /// (default "transit"), wrap, unwrap, data key, rotation, rewrap and min_decryption_version; the key
    /// is deleted afterwards.
    /// </summary>
    [SkippableFact]
    public async Task Live_Vault_TransitWrapRewrapAndMinDecryptionVersion()
    {
        var live = Live();
        Skip.If(live is null, "VAULT_ADDR and VAULT_TOKEN are not set: no live Vault to test against");
        var vault = live!.Value.Vault;
        var mount = Environment.GetEnvironmentVariable("ECOMDR_TEST_VAULT_TRANSIT_MOUNT") is { Length: > 0 } m ? m : "transit";
        var name = _prefix;
        (await vault.SendAsync(HttpMethod.Post, $"{mount}/keys/{name}", "{}"u8.ToArray(), CancellationToken.None)).Dispose();
        using var key = new EcomDr.Engine.Pipeline.Crypto.VaultTransitKey(mount, name, vault.Address, _ => Task.FromResult(vault));
        try
        {
            var (dataKey, generated) = await key.NewDataKeyAsync(CancellationToken.None);
            Assert.StartsWith("vault:v1:", generated.Wrapped, StringComparison.Ordinal);
            Assert.Equal(dataKey, await key.UnwrapAsync(generated, CancellationToken.None));
            await key.RotateAsync(CancellationToken.None);
            Assert.Equal(2, key.CurrentVersion);
            var rewrapped = await key.RewrapAsync(generated, CancellationToken.None);
            Assert.Equal(2, key.VersionOf(rewrapped));
            Assert.Equal(dataKey, await key.UnwrapAsync(rewrapped, CancellationToken.None));
            (await vault.SendAsync(HttpMethod.Post, $"{mount}/keys/{name}/config", """{"min_decryption_version":2}"""u8.ToArray(), CancellationToken.None)).Dispose();
            var refused = await Assert.ThrowsAsync<EcomDr.Engine.Errors.EcomDrException>(() => key.UnwrapAsync(generated, CancellationToken.None));
            Assert.Equal(EcomDr.Engine.Errors.ErrorIds.WrongKey, refused.ErrorId);
        }
        finally
        {
            (await vault.SendAsync(HttpMethod.Post, $"{mount}/keys/{name}/config", """{"deletion_allowed":true}"""u8.ToArray(), CancellationToken.None)).Dispose();
            (await vault.SendAsync(HttpMethod.Delete, $"{mount}/keys/{name}", null, CancellationToken.None)).Dispose();
        }
    }
}
