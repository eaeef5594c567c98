using System.Text;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.Vault;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.Engine.Vault;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Vault;

/// <summary>
/// Re-injection (the engine of Restore-VaultSecret) between two of the test kit's Vault stand-ins (no
/// Vault here; docs/testing.md): 200 secrets with versions, custom_metadata, settings, a deleted version
/// and a destroyed one, exported from one into a real file-system repository and written into an empty
/// second one, equal by digest; then what a restore must refuse, before it writes anything.
/// </summary>
public sealed class SecretRestoreTests : IAsyncLifetime
{
    private readonly RepoFixture _repo = new();
    private readonly List<string> _values = new();
    private VaultStandIn _source = null!;
    private VaultStandIn _target = null!;

    public Task InitializeAsync()
    {
        _source = VaultStandIn.Start();
        _target = VaultStandIn.Start();
        for (var i = 0; i < 200; i++)
        {
            var path = Path(i);
            for (var v = 1; v <= 1 + (i % 3); v++)
            {
                var value = $"s3cr3t-{i:D3}-v{v}-{Guid.NewGuid():N}";
                _values.Add(value);
                _source.Put("secret", path, new Dictionary<string, string> { ["password"] = value, ["user"] = $"svc{i:D3}" });
            }

            _source.SetMetadata("secret", path, new Dictionary<string, string> { ["owner"] = $"team{i % 5}", ["rotated"] = $"2026-11-{1 + (i % 28):D2}" },
                maxVersions: i % 4 == 0 ? 0 : 5 + (i % 4), casRequired: i % 10 == 0, deleteAfter: i % 7 == 0 ? "768h0m0s" : "0s");
        }

        _source.Delete("secret", Path(2), 1);   // an older version deleted: the current one stays
        _source.Destroy("secret", Path(5), 2);  // an older version destroyed
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        await _target.DisposeAsync();
        _repo.Dispose();
    }

    private static string Path(int i) => i % 4 == 0 ? $"infra/db/conn{i:D3}" : $"shop/app{i % 3}/key{i:D3}";

    private static KvV2 Kv(VaultStandIn vault) => new(new VaultConnection(new HttpClient(), vault.Address, new Secret(VaultStandIn.Token)));

    private async Task<BackupInfo> ExportAsync(bool allVersions = false) =>
        (await SecretBackup.RunAsync(_repo.Context, Kv(_source), [new SecretSource("secret", "")], allVersions, force: true, CancellationToken.None)).Backup;

    private Task<SecretRestorePlan> PlanAsync(BackupInfo backup, SecretSelection? selection = null, int version = 0, bool overwrite = false) =>
        SecretRestore.PlanAsync(_repo.Context, backup, Kv(_target), _target.Address, selection ?? SecretSelection.All, version, overwrite, CancellationToken.None);

    private Task<IReadOnlyList<VaultSecretChange>> ApplyAsync(SecretRestorePlan plan) =>
        SecretRestore.ApplyAsync(_repo.Context, plan, Kv(_target), plan.Changes.Select(c => c.FullPath).ToHashSet(), CancellationToken.None);

    [Fact]
    public async Task TwoHundredSecretsReachAnEmptyVaultEqualByDigestAsOneVersionEach()
    {
        var backup = await ExportAsync();
        var plan = await PlanAsync(backup);
        Assert.Equal(200, plan.Changes.Count(c => c.Change == SecretChangeKind.Added));
        Assert.Equal(200, plan.Changes.Count);

        var applied = await ApplyAsync(plan);
        Assert.All(applied, c => Assert.True(c.Applied && c.WrittenVersion == 1, c.FullPath));
        Assert.Equal(_source.ContentDigest("secret"), _target.ContentDigest("secret"));
        Assert.All(Enumerable.Range(0, 200), i => Assert.Equal(1, _target.VersionCount("secret", Path(i))));

        // A second plan finds nothing to do.
        var again = await PlanAsync(backup);
        Assert.All(again.Changes, c => Assert.Equal(SecretChangeKind.Unchanged, c.Change));

        // No value in any file the run left, nor in what the plan and the changes print.
        var texts = Directory.EnumerateFiles(_repo.Root, "*", SearchOption.AllDirectories).Select(f => Encoding.Latin1.GetString(File.ReadAllBytes(f)))
            .Concat(plan.Changes.Concat(applied).Select(c => c.ToString())).ToList();
        Assert.DoesNotContain(texts, t => _values.Any(v => t.Contains(v, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ASecretWithAnotherValueIsRefusedWithoutOverwriteBeforeAnythingIsWritten()
    {
        var backup = await ExportAsync();
        _target.Put("secret", Path(7), new Dictionary<string, string> { ["password"] = "changed-since" });
        _target.Put("secret", "shop/only-here", new Dictionary<string, string> { ["k"] = "v" });

        var plan = await PlanAsync(backup);
        var changed = Assert.Single(plan.Changes, c => c.Change == SecretChangeKind.Changed);
        Assert.Equal(($"secret/{Path(7)}", 1), (changed.FullPath, changed.TargetVersion));
        Assert.Contains("value", changed.Differences);
        Assert.Contains(plan.Changes, c => c is { Change: SecretChangeKind.OnlyInTarget, Path: "shop/only-here" });

        var refused = await Assert.ThrowsAsync<EcomDrException>(() => ApplyAsync(plan));
        Assert.Equal(ErrorIds.DestinationExists, refused.ErrorId);
        Assert.DoesNotContain("changed-since", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, _target.VersionCount("secret", Path(8))); // nothing written
        Assert.Equal("changed-since", _target.Current("secret", Path(7))!["password"]);

        // With -Overwrite the backup's value becomes the next version (check-and-set on the version the plan saw); the secret only in the target stays.
        var applied = await ApplyAsync(await PlanAsync(backup, overwrite: true));
        Assert.Equal(2, Assert.Single(applied, c => c.FullPath == $"secret/{Path(7)}").WrittenVersion);
        Assert.Equal(_source.Current("secret", Path(7)), _target.Current("secret", Path(7)));
        Assert.Equal("v", _target.Current("secret", "shop/only-here")!["k"]);
    }

    [Fact]
    public async Task AChosenVersionNeedsABackupOfEveryVersionAndComesBackAsTheNextOne()
    {
        var currentOnly = await ExportAsync();
        var refused = await Assert.ThrowsAsync<EcomDrException>(() => PlanAsync(currentOnly, new SecretSelection([$"secret/{Path(1)}"]), version: 1));
        Assert.Equal(ErrorIds.InvalidArgument, refused.ErrorId);

        var every = await ExportAsync(allVersions: true);
        var plan = await PlanAsync(every, new SecretSelection([$"secret/{Path(1)}"]), version: 1);
        Assert.Equal(SecretChangeKind.Added, Assert.Single(plan.Changes).Change);
        await ApplyAsync(plan);
        Assert.Equal(_values[ValueIndex(1, 1)], _target.Current("secret", Path(1))!["password"]);

        // Version 1 of the secret whose first version was destroyed has no value: refused, naming why.
        var destroyed = await Assert.ThrowsAsync<EcomDrException>(() => PlanAsync(every, new SecretSelection([$"secret/{Path(5)}"]), version: 2));
        Assert.Contains("destroyed", destroyed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APathTheBackupDoesNotHoldIsRefused()
    {
        var backup = await ExportAsync();
        var missing = await Assert.ThrowsAsync<EcomDrException>(() => PlanAsync(backup, new SecretSelection(["secret/shop/no-such-key"])));
        Assert.Equal(ErrorIds.SecretNotFound, missing.ErrorId);
        Assert.DoesNotContain(_target.Requests, r => r.StartsWith("POST", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SelectionByFolderAndWildcardTakesExactlyThosePaths()
    {
        var backup = await ExportAsync();
        var plan = await PlanAsync(backup, new SecretSelection(["secret/infra/"], exclude: ["*/conn0?0"]));
        var expected = Enumerable.Range(0, 200).Where(i => i % 4 == 0 && !(i < 100 && i % 10 == 0)).Select(i => $"secret/{Path(i)}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, plan.Changes.Select(c => c.FullPath).Order(StringComparer.Ordinal).ToList());
    }

    // Where a secret's version's value sits in _values (versions are added in order, 1 + i % 3 of them).
    private static int ValueIndex(int secret, int version) => Enumerable.Range(0, secret).Sum(i => 1 + (i % 3)) + version - 1;
}
