using System.Text;
using System.Text.Json;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.Vault;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.Engine.Vault;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Vault;

/// <summary>
/// The secrets export engine against the test kit's Vault stand-in (no Vault here), into a real
/// file-system repository: the document holds every secret's metadata, every version's state and the
/// values asked for; deleted and destroyed versions carry no value; an unchanged Vault writes no new
/// backup; and no value appears in any file the run leaves.
/// </summary>
public sealed class SecretBackupTests : IAsyncLifetime
{
    private readonly RepoFixture _repo = new();
    private readonly List<string> _values = new();
    private VaultStandIn _vault = null!;

    public Task InitializeAsync()
    {
        _vault = VaultStandIn.Start();
        for (var i = 0; i < 60; i++)
        {
            var path = i % 3 == 0 ? $"infra/service{i:D2}" : $"shop/app/key{i:D2}";
            for (var v = 1; v <= 1 + (i % 3); v++)
            {
                Put(path, $"value-{i:D2}-v{v}-{Guid.NewGuid():N}");
            }

            _vault.SetMetadata("secret", path, new Dictionary<string, string> { ["owner"] = $"team{i % 4}" }, maxVersions: 10);
        }

        _vault.Put("secret", "elsewhere/not-exported", new Dictionary<string, string> { ["k"] = "never-exported-value" });
        _vault.Delete("secret", "shop/app/key02", 2);
        _vault.Destroy("secret", "shop/app/key05", 1);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _vault.DisposeAsync();
        _repo.Dispose();
    }

    private void Put(string path, string value)
    {
        _values.Add(value);
        _vault.Put("secret", path, new Dictionary<string, string> { ["value"] = value, ["note"] = "plain" });
    }

    private KvV2 Kv() => new(new VaultConnection(new HttpClient(), _vault.Address, new Secret(VaultStandIn.Token)));

    // "shop/app" overlaps "shop": its secrets are exported once.
    private static readonly SecretSource[] Sources = [new("secret", "shop"), new("secret", "infra"), new("secret", "shop/app")];

    private Task<SecretBackupResult> RunAsync(bool allVersions = false, bool force = false) =>
        SecretBackup.RunAsync(_repo.Context, Kv(), Sources, allVersions, force, CancellationToken.None);

    private async Task<JsonDocument> DocumentAsync(BackupInfo backup)
    {
        var full = await BackupCatalog.GetAsync(_repo.Context, backup.Id, CancellationToken.None);
        var artifact = Assert.Single(full.Manifest!.Artifacts);
        await using var stream = await ArtifactReader.OpenAsync(_repo.Store, full.Prefix + artifact.Path, artifact, _repo.Context.KeyProviders, CancellationToken.None);
        return await JsonDocument.ParseAsync(stream);
    }

    [Fact]
    public async Task The_export_holds_metadata_every_version_state_and_the_current_values()
    {
        var result = await RunAsync();
        Assert.False(result.Skipped);
        Assert.Equal((60, 120, 60), (result.Summary.Secrets, result.Summary.Versions, result.Summary.ValuesExported));
        Assert.Equal(result.Summary.Digest, (string?)result.Backup.Manifest!.Source["contentDigest"]);

        using var document = await DocumentAsync(result.Backup);
        var secrets = document.RootElement.GetProperty("secrets").EnumerateArray().ToDictionary(s => s.GetProperty("path").GetString()!);
        Assert.Equal(SecretExport.Format, document.RootElement.GetProperty("format").GetString());
        Assert.Equal(60, secrets.Count);
        Assert.DoesNotContain("elsewhere/not-exported", secrets.Keys);
        foreach (var (path, secret) in secrets)
        {
            var current = secret.GetProperty("versions").EnumerateArray().Single(v => v.GetProperty("version").GetInt32() == secret.GetProperty("currentVersion").GetInt32());
            Assert.Equal(_vault.Current("secret", path)!["value"], current.GetProperty("data").GetProperty("value").GetString());
            Assert.StartsWith("team", secret.GetProperty("customMetadata").GetProperty("owner").GetString(), StringComparison.Ordinal);
            Assert.Equal(10, secret.GetProperty("maxVersions").GetInt32());
            Assert.All(secret.GetProperty("versions").EnumerateArray().Where(v => v.GetProperty("version").GetInt32() != secret.GetProperty("currentVersion").GetInt32()),
                v => Assert.False(v.TryGetProperty("data", out _)));
        }

        var deleted = secrets["shop/app/key02"].GetProperty("versions")[1];
        Assert.NotEqual(JsonValueKind.Null, deleted.GetProperty("deleted").ValueKind);
        var destroyed = secrets["shop/app/key05"].GetProperty("versions")[0];
        Assert.True(destroyed.GetProperty("destroyed").GetBoolean());
    }

    [Fact]
    public async Task All_versions_exports_every_readable_version_and_never_a_deleted_or_destroyed_one()
    {
        var result = await RunAsync(allVersions: true);
        Assert.Equal(118, result.Summary.ValuesExported);
        using var document = await DocumentAsync(result.Backup);
        var secrets = document.RootElement.GetProperty("secrets").EnumerateArray().ToDictionary(s => s.GetProperty("path").GetString()!);
        Assert.False(secrets["shop/app/key02"].GetProperty("versions")[1].TryGetProperty("data", out _));
        Assert.False(secrets["shop/app/key05"].GetProperty("versions")[0].TryGetProperty("data", out _));
        Assert.True(secrets["shop/app/key02"].GetProperty("versions")[0].TryGetProperty("data", out _));
        Assert.True(secrets["shop/app/key05"].GetProperty("versions")[1].TryGetProperty("data", out _));
    }

    [Fact]
    public async Task An_unchanged_vault_writes_no_new_backup_a_change_or_force_does()
    {
        var first = await RunAsync();
        var again = await RunAsync();
        Assert.True(again.Skipped);
        Assert.Equal(first.Backup.Id, again.Backup.Id);
        Assert.Single(await BackupCatalog.ListAsync(_repo.Context, BackupKinds.Secrets, CancellationToken.None));

        Put("shop/app/key01", $"rotated-{Guid.NewGuid():N}");
        var changed = await RunAsync();
        Assert.False(changed.Skipped);
        Assert.NotEqual(first.Summary.Digest, changed.Summary.Digest);
        var forced = await RunAsync(force: true);
        Assert.False(forced.Skipped);
        Assert.Equal(changed.Summary.Digest, forced.Summary.Digest);
        Assert.Equal(3, (await BackupCatalog.ListAsync(_repo.Context, BackupKinds.Secrets, CancellationToken.None)).Count);

        // Keyed: another key gives another digest for the same content.
        using var other = EcomDr.Engine.Pipeline.Crypto.LocalKeyFile.Create(Path.Join(_repo.Root, "keys", "other.key"));
        var otherDigest = await SecretExport.WriteAsync(Kv(), Sources, false, other.DeriveKey(SecretBackup.DigestPurpose), Stream.Null, DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.NotEqual(forced.Summary.Digest, otherDigest.Digest);
    }

    [Fact]
    public async Task No_value_is_in_any_file_the_run_leaves()
    {
        await RunAsync(allVersions: true);
        var files = Directory.EnumerateFiles(_repo.Root, "*", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var text = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(file));
            Assert.All(_values, v => Assert.DoesNotContain(v, text, StringComparison.Ordinal));
        }
    }
}
