using System.Net;
using System.Text;
using EcomDr.Engine.Config;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Vault;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Credentials;

/// <summary>
/// Credential references. Vault cannot be installed here, so the Vault client is tested against a
/// stand-in HTTP server that implements only the documented KV read it uses.
/// </summary>
public sealed class SecretsTests : IDisposable
{
    private readonly HttpListener _vault = new();
    private readonly int _port = ServerProcess.FreePort();
    private string? _seenToken;

    public SecretsTests()
    {
        _vault.Prefixes.Add($"http://127.0.0.1:{_port}/");
        _vault.Start();
        _ = Task.Run(ServeAsync);
    }

    public void Dispose() => _vault.Close();

    private async Task ServeAsync()
    {
        while (_vault.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _vault.GetContextAsync();
            }
            catch (Exception)
            {
                return;
            }

            _seenToken = context.Request.Headers["X-Vault-Token"];
            var (status, body) = (context.Request.Url!.AbsolutePath, _seenToken) switch
            {
                (_, not "s.stand-in-token") => (403, """{"errors":["permission denied"]}"""),
                ("/v1/secret/data/ecomdr/mysql", _) => (200, """{"data":{"data":{"username":"ecomdr_backup","password":"pw-from-vault"},"metadata":{"version":3}}}"""),
                ("/v1/kv1/ecomdr", _) => (200, """{"data":{"password":"pw-kv1"}}"""),
                _ => (404, """{"errors":[]}"""),
            };
            context.Response.StatusCode = status;
            var bytes = Encoding.UTF8.GetBytes(body);
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    private CredentialResolver Resolver(string token = "s.stand-in-token") =>
        new(vaultFactory: () => new VaultConnection(new HttpClient(), new Uri($"http://127.0.0.1:{_port}/"), new Secret(token)));

    [Fact]
    public async Task VaultStandIn_KvV2AndV1AreRead()
    {
        var v2 = await Resolver().ResolveAsync(new CredentialReference(null, null, null, "secret/data/ecomdr/mysql", null), "t", CancellationToken.None);
        Assert.Equal(("ecomdr_backup", "pw-from-vault"), (v2.User, v2.Password.Reveal()));
        Assert.Equal("s.stand-in-token", _seenToken);
        var v1 = await Resolver().ResolveAsync(new CredentialReference("u", null, null, "kv1/ecomdr", null), "t", CancellationToken.None);
        Assert.Equal(("u", "pw-kv1"), (v1.User, v1.Password.Reveal()));
    }

    [Fact]
    public async Task VaultStandIn_MissingPathFieldAndBadTokenAreClearErrors()
    {
        var missing = await Assert.ThrowsAsync<EcomDrException>(() =>
            Resolver().ResolveAsync(new CredentialReference("u", null, null, "secret/data/nope", null), "t", CancellationToken.None));
        Assert.Equal(ErrorIds.SecretNotFound, missing.ErrorId);
        var field = await Assert.ThrowsAsync<EcomDrException>(() =>
            Resolver().ResolveAsync(new CredentialReference("u", null, null, "secret/data/ecomdr/mysql", "api_key"), "t", CancellationToken.None));
        Assert.Contains("no field 'api_key'", field.Message);
        var denied = await Assert.ThrowsAsync<EcomDrException>(() =>
            Resolver("s.wrong").ResolveAsync(new CredentialReference("u", null, null, "secret/data/ecomdr/mysql", null), "t", CancellationToken.None));
        Assert.Equal((ErrorIds.SecretSourceUnavailable, FailureKind.PermissionDenied), (denied.ErrorId, denied.Kind));
        Assert.DoesNotContain("s.wrong", denied.ToString());
    }

    [Fact]
    public async Task EnvironmentVariableReference()
    {
        var name = "ECOMDR_TEST_PW_" + Guid.NewGuid().ToString("N");
        var reference = new CredentialReference("bk", name, null, null, null);
        var unset = await Assert.ThrowsAsync<EcomDrException>(() => new CredentialResolver().ResolveAsync(reference, "f.json: x", CancellationToken.None));
        Assert.Equal(ErrorIds.SecretNotFound, unset.ErrorId);
        Assert.Contains(name, unset.Message);

        Environment.SetEnvironmentVariable(name, "env-secret-value");
        try
        {
            var resolved = await new CredentialResolver().ResolveAsync(reference, "f.json: x", CancellationToken.None);
            Assert.Equal("env-secret-value", resolved.Password.Reveal());
            Assert.Equal("***", resolved.Password.ToString());
            Assert.DoesNotContain("env-secret-value", resolved.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Fact]
    public async Task AutomationCredentialOutsideARunbookIsUnavailable()
    {
        var ex = await Assert.ThrowsAsync<EcomDrException>(() =>
            new CredentialResolver().ResolveAsync(new CredentialReference(null, null, "EcomDrMySql", null, null), "f.json: x", CancellationToken.None));
        Assert.Equal(ErrorIds.SecretSourceUnavailable, ex.ErrorId);
        var found = await new CredentialResolver(n => n == "EcomDrMySql" ? new ResolvedCredential("auto", new Secret("a")) : null)
            .ResolveAsync(new CredentialReference(null, null, "EcomDrMySql", null, null), "x", CancellationToken.None);
        Assert.Equal("auto", found.User);
    }
}
