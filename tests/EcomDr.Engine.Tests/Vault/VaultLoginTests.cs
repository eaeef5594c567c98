using EcomDr.Engine.Config;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Vault;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Vault;

/// <summary>
/// Logging in to a configured Vault (token from a variable or a file, AppRole) and what the client
/// checks before it reads anything, against the test kit's stand-in (no Vault here; docs/testing.md):
/// the token lookup, renewal near the end, OpenBao's paged LIST beside Vault's unpaged one, and the
/// mount preflight. A wrong credential is a clear error that never shows it.
/// </summary>
public sealed class VaultLoginTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ecomdr-vault-login-").FullName;
    private VaultStandIn _vault = null!;

    public Task InitializeAsync()
    {
        _vault = VaultStandIn.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _vault.DisposeAsync();
        Directory.Delete(_folder, true);
    }

    private VaultServerConfig Server(VaultAuthConfig auth) => new(_vault.Address, null, null, true, auth);

    private static VaultAuthConfig Auth(VaultAuthMethod method = VaultAuthMethod.Token, string tokenEnv = "ECOMDR_TEST_VAULT_TOKEN", string? file = null, string? roleId = null,
        string? secretIdEnv = null, string? secretIdAutomation = null) =>
        new(method, tokenEnv, file, "approle", roleId, null, secretIdEnv, secretIdAutomation);

    private Task<(VaultConnection Vault, VaultTokenInfo Token)> ConnectAsync(VaultAuthConfig auth, Func<string, Secret?>? automation = null) =>
        VaultLogin.ConnectAsync(Server(auth), automation, CancellationToken.None, TimeSpan.FromMilliseconds(5));

    [Fact]
    public async Task ATokenFromAVariableOrAFileIsLookedUpFirst()
    {
        var token = _vault.IssueToken(TimeSpan.FromHours(2), true, "default", "ecomdr-export");
        Environment.SetEnvironmentVariable("ECOMDR_TEST_VAULT_TOKEN", token);
        try
        {
            var (_, info) = await ConnectAsync(Auth());
            Assert.Equal(new[] { "default", "ecomdr-export" }, info.Policies);
            Assert.True(info.Renewable && info.Ttl > TimeSpan.FromMinutes(100));
        }
        finally
        {
            Environment.SetEnvironmentVariable("ECOMDR_TEST_VAULT_TOKEN", null);
        }

        var file = Path.Join(_folder, "token");
        await File.WriteAllTextAsync(file, token + "\n"); // as the Vault agent's sink writes it
        Assert.True((await ConnectAsync(Auth(VaultAuthMethod.TokenFile, file: file))).Token.Expires);

        var unset = await Assert.ThrowsAsync<EcomDrException>(() => ConnectAsync(Auth(tokenEnv: "ECOMDR_TEST_VAULT_TOKEN_UNSET")));
        Assert.Equal(ErrorIds.SecretNotFound, unset.ErrorId);
        Assert.Contains("ECOMDR_TEST_VAULT_TOKEN_UNSET", unset.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWrongTokenIsAnAuthenticationErrorThatNeverShowsIt()
    {
        var file = Path.Join(_folder, "wrong");
        await File.WriteAllTextAsync(file, "hvs.not-a-token-of-this-vault");
        var wrong = await Assert.ThrowsAsync<EcomDrException>(() => ConnectAsync(Auth(VaultAuthMethod.TokenFile, file: file)));
        Assert.Equal((ErrorIds.AuthenticationFailed, FailureKind.AuthenticationError), (wrong.ErrorId, wrong.Kind));
        Assert.DoesNotContain("not-a-token", wrong.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAppRoleLogsInWithASecretIdFromAVariableOrAnAutomationVariable()
    {
        _vault.AddAppRole("role-1234", "secret-id-5678");
        Environment.SetEnvironmentVariable("ECOMDR_TEST_SECRET_ID", "secret-id-5678");
        try
        {
            var (vault, info) = await ConnectAsync(Auth(VaultAuthMethod.AppRole, roleId: "role-1234", secretIdEnv: "ECOMDR_TEST_SECRET_ID"));
            Assert.Contains("approle-ecomdr", info.Policies);
            await vault.SendAsync(HttpMethod.Get, "auth/token/lookup-self", null, CancellationToken.None);
        }
        finally
        {
            Environment.SetEnvironmentVariable("ECOMDR_TEST_SECRET_ID", null);
        }

        var (_, fromAutomation) = await ConnectAsync(Auth(VaultAuthMethod.AppRole, roleId: "role-1234", secretIdAutomation: "vault-secret-id"),
            name => name == "vault-secret-id" ? new Secret("secret-id-5678") : null);
        Assert.True(fromAutomation.Renewable);

        var outside = await Assert.ThrowsAsync<EcomDrException>(() => ConnectAsync(Auth(VaultAuthMethod.AppRole, roleId: "role-1234", secretIdAutomation: "vault-secret-id")));
        Assert.Equal(ErrorIds.SecretSourceUnavailable, outside.ErrorId);

        var refused = await Assert.ThrowsAsync<EcomDrException>(() => ConnectAsync(Auth(VaultAuthMethod.AppRole, roleId: "role-1234", secretIdAutomation: "v"),
            _ => new Secret("secret-id-WRONG")));
        Assert.Equal(ErrorIds.AuthenticationFailed, refused.ErrorId);
        Assert.DoesNotContain("WRONG", refused.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATokenNearItsEndIsRenewedAndOneWithTimeLeftIsNot()
    {
        var token = _vault.IssueToken(TimeSpan.FromMinutes(5), true, "default");
        var vault = new VaultConnection(new HttpClient(), _vault.Address, new Secret(token));
        var info = await VaultToken.LookupSelfAsync(vault, CancellationToken.None);
        var (renewed, did) = await VaultToken.RenewIfNearEndAsync(vault, info, CancellationToken.None);
        Assert.True(did);
        Assert.True(renewed.Ttl > TimeSpan.FromMinutes(4));
        Assert.Contains(_vault.Requests, r => r.StartsWith("POST /v1/auth/token/renew-self", StringComparison.Ordinal));

        var longLived = new VaultConnection(new HttpClient(), _vault.Address, new Secret(_vault.IssueToken(TimeSpan.FromHours(24), true)));
        Assert.False((await VaultToken.RenewIfNearEndAsync(longLived, await VaultToken.LookupSelfAsync(longLived, CancellationToken.None), CancellationToken.None)).Renewed);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheWalkReadsPagedAndUnpagedListsWhole(bool paginates)
    {
        _vault.Paginates = paginates;
        var paths = Enumerable.Range(0, 23).Select(i => $"app/k{i:D2}").Append("app/sub/deep").ToList();
        paths.ForEach(p => _vault.Put("secret", p, new Dictionary<string, string> { ["v"] = p }));
        var kv = new KvV2(new VaultConnection(new HttpClient(), _vault.Address, new Secret(VaultStandIn.Token))) { PageSize = 5 };
        var found = new List<string>();
        await foreach (var path in kv.WalkAsync("secret", "app", CancellationToken.None))
        {
            found.Add(path);
        }

        Assert.Equal(paths.Order(StringComparer.Ordinal), found.Order(StringComparer.Ordinal));
        Assert.Equal(paths.Count, found.Distinct().Count());
        // Paged: five pages of the folder; unpaged: the whole folder, then one more request that shows the server does not page.
        var lists = _vault.Requests.Count(r => r.StartsWith("LIST /v1/secret/metadata/app/?", StringComparison.Ordinal) || r.StartsWith("LIST /v1/secret/metadata/app/?", StringComparison.Ordinal));
        Assert.True(paginates ? lists == 5 : lists == 2, string.Join("\n", _vault.Requests));
    }

    [Fact]
    public async Task TheMountPreflightNamesWhatIsWrong()
    {
        _vault.AddMount("kv1", "kv", "1");
        _vault.AddMount("transit", "transit", "");
        var kv = new KvV2(new VaultConnection(new HttpClient(), _vault.Address, new Secret(VaultStandIn.Token)));
        await kv.CheckMountAsync("secret", CancellationToken.None);
        Assert.Equal(ErrorIds.SecretNotFound, (await Assert.ThrowsAsync<EcomDrException>(() => kv.CheckMountAsync("nosuch", CancellationToken.None))).ErrorId);
        Assert.Contains("KV version 1", (await Assert.ThrowsAsync<EcomDrException>(() => kv.CheckMountAsync("kv1", CancellationToken.None))).Message, StringComparison.Ordinal);
        Assert.Contains("'transit'", (await Assert.ThrowsAsync<EcomDrException>(() => kv.CheckMountAsync("transit", CancellationToken.None))).Message, StringComparison.Ordinal);
        Assert.Contains("as a prefix", (await Assert.ThrowsAsync<EcomDrException>(() => kv.CheckMountAsync("secret/app", CancellationToken.None))).Message, StringComparison.Ordinal);
    }
}
