using System.Text.Json;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Vault;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Vault;

/// <summary>
/// The KV version 2 client against the test kit's Vault stand-in (no Vault can be installed here;
/// the stand-in answers as Vault's API documentation says): the tree walk, metadata, versions
/// including deleted and destroyed ones (404 with metadata), check-and-set writes, retries on 429,
/// and 403 and an unreachable Vault as clear errors that never show the token.
/// </summary>
public sealed class KvV2StandInTests : IAsyncLifetime
{
    private VaultStandIn _vault = null!;

    public Task InitializeAsync()
    {
        _vault = VaultStandIn.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    private KvV2 Client(string token = VaultStandIn.Token) =>
        new(new VaultConnection(new HttpClient(), _vault.Address, new Secret(token)) { RetryBase = TimeSpan.FromMilliseconds(5) });

    private static Dictionary<string, string> Values(byte[] json) => JsonSerializer.Deserialize<Dictionary<string, string>>(json)!;

    [Fact]
    public async Task The_walk_finds_every_secret_of_a_prefix_and_nothing_else()
    {
        foreach (var path in new[] { "shop/api", "shop/db/primary", "shop/db/replica", "shop/certs/tls/web", "other/x" })
        {
            _vault.Put("secret", path, new Dictionary<string, string> { ["v"] = path });
        }

        var found = new List<string>();
        await foreach (var path in Client().WalkAsync("secret", "shop", CancellationToken.None))
        {
            found.Add(path);
        }

        Assert.Equal(new[] { "shop/api", "shop/certs/tls/web", "shop/db/primary", "shop/db/replica" }, found.Order(StringComparer.Ordinal));
        var all = new List<string>();
        await foreach (var path in Client().WalkAsync("secret", "", CancellationToken.None))
        {
            all.Add(path);
        }

        Assert.Equal(5, all.Count);
        var none = new List<string>();
        await foreach (var path in Client().WalkAsync("secret", "nothing/here", CancellationToken.None))
        {
            none.Add(path);
        }

        Assert.Empty(none);
    }

    [Fact]
    public async Task Metadata_and_every_version_are_read_and_a_deleted_or_destroyed_version_has_no_value()
    {
        for (var i = 1; i <= 4; i++)
        {
            _vault.Put("secret", "shop/stripe", new Dictionary<string, string> { ["key"] = $"sk_live_{i}" });
        }

        _vault.SetMetadata("secret", "shop/stripe", new Dictionary<string, string> { ["owner"] = "payments" }, maxVersions: 7, casRequired: true, deleteAfter: "720h0m0s");
        _vault.Delete("secret", "shop/stripe", 2);
        _vault.Destroy("secret", "shop/stripe", 3);
        var kv = Client();

        var metadata = await kv.ReadMetadataAsync("secret", "shop/stripe", CancellationToken.None);
        Assert.Equal((4, true, 7, "720h0m0s"), (metadata.CurrentVersion, metadata.CasRequired, metadata.MaxVersions, metadata.DeleteVersionAfter));
        Assert.Equal("payments", metadata.CustomMetadata["owner"]);
        Assert.Equal(new[] { true, false, false, true }, metadata.Versions.Select(v => v.Readable));
        Assert.NotNull(metadata.Versions[1].Deleted);
        Assert.True(metadata.Versions[2].Destroyed);

        var current = await kv.ReadVersionAsync("secret", "shop/stripe", 0, CancellationToken.None);
        Assert.Equal(4, current.Version);
        Assert.Equal("sk_live_4", Values(current.Data!)["key"]);
        var first = await kv.ReadVersionAsync("secret", "shop/stripe", 1, CancellationToken.None);
        Assert.Equal("sk_live_1", Values(first.Data!)["key"]);

        var deleted = await kv.ReadVersionAsync("secret", "shop/stripe", 2, CancellationToken.None);
        Assert.Equal((2, false), (deleted.Version, deleted.Destroyed));
        Assert.Null(deleted.Data);
        Assert.NotNull(deleted.Deleted);
        var destroyed = await kv.ReadVersionAsync("secret", "shop/stripe", 3, CancellationToken.None);
        Assert.Equal((3, true), (destroyed.Version, destroyed.Destroyed));
        Assert.Null(destroyed.Data);

        // A version that never existed is not a deleted one: 404 without metadata.
        var missing = await Assert.ThrowsAsync<EcomDrException>(() => kv.ReadVersionAsync("secret", "shop/stripe", 9, CancellationToken.None));
        Assert.Equal(ErrorIds.SecretNotFound, missing.ErrorId);
        var unknown = await Assert.ThrowsAsync<EcomDrException>(() => kv.ReadMetadataAsync("secret", "shop/nope", CancellationToken.None));
        Assert.Equal(ErrorIds.SecretNotFound, unknown.ErrorId);
    }

    [Fact]
    public async Task Writes_use_check_and_set_and_metadata_is_written_without_a_version()
    {
        var kv = Client();
        Assert.Equal(1, await kv.WriteAsync("secret", "shop/new", """{"token":"t1"}"""u8.ToArray(), 0, CancellationToken.None));
        var exists = await Assert.ThrowsAsync<EcomDrException>(() => kv.WriteAsync("secret", "shop/new", """{"token":"t2"}"""u8.ToArray(), 0, CancellationToken.None));
        Assert.Equal((ErrorIds.SecretSourceUnavailable, FailureKind.InvalidOperation), (exists.ErrorId, exists.Kind));
        Assert.Contains("exists already", exists.Message, StringComparison.Ordinal);
        var stale = await Assert.ThrowsAsync<EcomDrException>(() => kv.WriteAsync("secret", "shop/new", """{"token":"t2"}"""u8.ToArray(), 5, CancellationToken.None));
        Assert.Contains("current version is not 5", stale.Message, StringComparison.Ordinal);
        Assert.Equal(2, await kv.WriteAsync("secret", "shop/new", """{"token":"t2"}"""u8.ToArray(), 1, CancellationToken.None));
        Assert.Equal("t2", _vault.Current("secret", "shop/new")!["token"]);

        var metadata = await kv.ReadMetadataAsync("secret", "shop/new", CancellationToken.None);
        await kv.WriteMetadataAsync(metadata with { CustomMetadata = new Dictionary<string, string> { ["team"] = "ops" }, MaxVersions = 3 }, CancellationToken.None);
        var after = await kv.ReadMetadataAsync("secret", "shop/new", CancellationToken.None);
        Assert.Equal((2, 3, "ops"), (after.CurrentVersion, after.MaxVersions, after.CustomMetadata["team"]));
    }

    [Fact]
    public async Task A_rate_limit_is_retried_and_a_forbidden_path_a_wrong_token_or_no_vault_are_clear_errors_without_the_token()
    {
        _vault.Put("secret", "shop/api", new Dictionary<string, string> { ["k"] = "v" });
        _vault.Throttle("secret/metadata/shop/api", 3);
        var metadata = await Client().ReadMetadataAsync("secret", "shop/api", CancellationToken.None);
        Assert.Equal(1, metadata.CurrentVersion);
        Assert.Equal(4, _vault.Requests.Count(r => r == "GET /v1/secret/metadata/shop/api"));

        _vault.Throttle("secret/metadata/shop/api", VaultConnection.MaxAttempts);
        var limited = await Assert.ThrowsAsync<EcomDrException>(() => Client().ReadMetadataAsync("secret", "shop/api", CancellationToken.None));
        Assert.Equal((ErrorIds.SecretSourceUnavailable, FailureKind.ResourceUnavailable), (limited.ErrorId, limited.Kind));
        Assert.Contains($"answered 429 after {VaultConnection.MaxAttempts} attempts", limited.Message, StringComparison.Ordinal);

        _vault.Forbid("secret/metadata/shop/private");
        _vault.Put("secret", "shop/private/key", new Dictionary<string, string> { ["k"] = "v" });
        var forbidden = await Assert.ThrowsAsync<EcomDrException>(() => Client().ReadMetadataAsync("secret", "shop/private/key", CancellationToken.None));
        Assert.Equal((ErrorIds.SecretSourceUnavailable, FailureKind.PermissionDenied), (forbidden.ErrorId, forbidden.Kind));
        Assert.Contains("'secret/metadata/shop/private/key'", forbidden.Message, StringComparison.Ordinal);

        const string wrong = "hvs.wrong-token-do-not-print";
        var refused = await Assert.ThrowsAsync<EcomDrException>(() => Client(wrong).ReadMetadataAsync("secret", "shop/api", CancellationToken.None));
        Assert.Equal(FailureKind.PermissionDenied, refused.Kind);
        Assert.DoesNotContain(wrong, refused.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(VaultStandIn.Token, forbidden.ToString(), StringComparison.Ordinal);

        var gone = new Uri($"http://127.0.0.1:{ServerProcess.FreePort()}/");
        var unreachable = await Assert.ThrowsAsync<EcomDrException>(() =>
            new KvV2(new VaultConnection(new HttpClient(), gone, new Secret(VaultStandIn.Token))).ReadMetadataAsync("secret", "shop/api", CancellationToken.None));
        Assert.Equal((ErrorIds.SecretSourceUnavailable, FailureKind.ResourceUnavailable), (unreachable.ErrorId, unreachable.Kind));
        Assert.Contains("unreachable", unreachable.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(VaultStandIn.Token, unreachable.ToString(), StringComparison.Ordinal);
    }
}
