using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Tests.Config;

/// <summary>The environment's vault section (docs/configuration.md, "vault"): every field read, and bad input named by its field before anything runs.</summary>
public sealed class VaultConfigTests
{
    private const string File = """
        {
          "schemaVersion": 1,
          "environments": {
            "prod": {
              "vault": {
                "address": "https://vault.internal:8200", "namespace": "shop", "caFile": "certs/vault-ca.pem",
                "auth": { "method": "appRole", "roleId": "r-123", "secretIdEnv": "ECOMDR_VAULT_SECRET_ID" },
                "mounts": [ { "mount": "/secret/", "prefixes": [ "shop/", "infra" ] }, { "mount": "kv-payments" } ],
                "secondary": { "address": "https://vault-dr.internal:8200", "auth": { "method": "tokenFile", "path": "/run/vault/token" } }
              },
              "repositories": { "primary": { "path": "repo" } },
              "keys": [ { "path": "prod.key" } ]
            }
          }
        }
        """;

    private static VaultConfig Read(string text) => ConfigLoader.Parse(text, "/etc/ecomdr/ecomdr.json").GetEnvironment("prod").Vault!;

    [Fact]
    public void EveryFieldIsRead()
    {
        var vault = Read(File);
        Assert.Equal((new Uri("https://vault.internal:8200/"), "shop", "/etc/ecomdr/certs/vault-ca.pem", true), (vault.Server.Address, vault.Server.Namespace, vault.Server.CaFile, vault.Server.TlsVerify));
        Assert.Equal((VaultAuthMethod.AppRole, "approle", "r-123", "ECOMDR_VAULT_SECRET_ID"),
            (vault.Server.Auth.Method, vault.Server.Auth.AppRoleMount, vault.Server.Auth.RoleId, vault.Server.Auth.SecretIdEnvironmentVariable));
        Assert.Equal(new[] { "secret:shop,infra", "kv-payments:" }, vault.Mounts.Select(m => $"{m.Mount}:{string.Join(",", m.Prefixes)}"));
        Assert.Equal((VaultAuthMethod.TokenFile, "/run/vault/token"), (vault.Secondary!.Auth.Method, vault.Secondary.Auth.TokenFile));
        Assert.Same(vault.Secondary, vault.Target("secondary", "test"));
        Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<EcomDrException>(() => vault.Target("tertiary", "test")).ErrorId);
    }

    [Theory]
    [InlineData("\"address\": \"https://vault.internal:8200\", \"namespace\"", "\"address\": \"vault.internal\", \"namespace\"", "environments.prod.vault.address")]
    [InlineData("\"roleId\": \"r-123\"", "\"roleId\": \"r-123\", \"roleIdEnv\": \"R\"", "exactly one of roleId or roleIdEnv")]
    [InlineData(", \"secretIdEnv\": \"ECOMDR_VAULT_SECRET_ID\"", "", "exactly one of secretIdEnv or secretIdAutomationVariable")]
    [InlineData("\"secretIdEnv\": \"ECOMDR_VAULT_SECRET_ID\"", "\"secretId\": \"s-456\"", "auth.secretId: secrets are never written in the configuration")]
    [InlineData("{ \"mount\": \"kv-payments\" }", "{ \"mount\": \"secret\" }", "mount 'secret' is named twice")]
    [InlineData("\"https://vault-dr.internal:8200\"", "\"https://vault.internal:8200\", \"namespace\": \"shop\"", "the secondary vault is the exported one")]
    [InlineData("\"method\": \"tokenFile\"", "\"method\": \"kerberos\"", "environments.prod.vault.secondary.auth.method")]
    [InlineData("\"address\": \"https://vault.internal:8200\", \"namespace\": \"shop\", \"caFile\"", "\"address\": \"http://vault.internal:8200\", \"namespace\": \"shop\", \"caFile\"", "a CA file is for https addresses")]
    [InlineData("\"mounts\"", "\"mountz\"", "mountz")]
    public void BadInputIsRefusedNamingTheField(string find, string replace, string expected)
    {
        Assert.Contains(find, File, StringComparison.Ordinal);
        var ex = Assert.Throws<EcomDrException>(() => Read(File.Replace(find, replace, StringComparison.Ordinal)));
        Assert.Equal(ErrorIds.ConfigInvalid, ex.ErrorId);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s-456", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEnvironmentWithoutAVaultSectionSaysSoToASecretsJob()
    {
        var env = ConfigLoader.Parse(File, "/etc/ecomdr/ecomdr.json").GetEnvironment("prod") with { Vault = null };
        var ex = Assert.Throws<EcomDrException>(() => env.RequireVault("/etc/ecomdr/ecomdr.json"));
        Assert.Equal((ErrorIds.SourceNotConfigured, FailureKind.ObjectNotFound), (ex.ErrorId, ex.Kind));
        Assert.Contains("environments.prod has no vault section", ex.Message, StringComparison.Ordinal);
    }
}
