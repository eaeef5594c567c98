using System.Net;
using System.Text.Json;
using EcomDr.Engine.Config;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Vault;

/// <summary>
/// A connection to a configured Vault with a token obtained as its auth section says: from an
/// environment variable, from a token file, or by an AppRole login whose secret id comes from an
/// environment variable or an Azure Automation variable (looked up by the module, inside a runbook).
/// Every path is then checked with a token lookup, so a wrong token fails first and clearly.
/// </summary>
public static class VaultLogin
{
    public static async Task<(VaultConnection Vault, VaultTokenInfo Token)> ConnectAsync(VaultServerConfig server, Func<string, Secret?>? automationVariable,
        CancellationToken ct, TimeSpan? retryBase = null)
    {
        var anonymous = new VaultConnection(VaultHttp.For(server.CaFile, server.TlsVerify), server.Address, Secret.Empty, server.Namespace)
        {
            RetryBase = retryBase ?? TimeSpan.FromMilliseconds(200),
        };

        var token = server.Auth.Method switch
        {
            VaultAuthMethod.TokenFile => ReadTokenFile(server.Auth.TokenFile!),
            VaultAuthMethod.AppRole => await AppRoleAsync(anonymous, server.Auth, automationVariable, ct).ConfigureAwait(false),
            _ => Environment.GetEnvironmentVariable(server.Auth.TokenEnvironmentVariable) is { Length: > 0 } value ? new Secret(value.Trim())
                : throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.ObjectNotFound,
                    $"Vault at {server.Address}: environment variable '{server.Auth.TokenEnvironmentVariable}' (the token) is not set.", server.Auth.TokenEnvironmentVariable),
        };
        var vault = anonymous.WithToken(token);
        return (vault, await VaultToken.LookupSelfAsync(vault, ct).ConfigureAwait(false));
    }

    private static Secret ReadTokenFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.ObjectNotFound, $"The Vault token file '{path}' does not exist.", path);
        }

        var text = File.ReadAllText(path).Trim();
        return text.Length > 0 ? new Secret(text) : throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.InvalidData, $"The Vault token file '{path}' is empty.", path);
    }

    // POST auth/<mount>/login {role_id, secret_id}: the token is auth.client_token. Vault answers 400 to a wrong pair.
    private static async Task<Secret> AppRoleAsync(VaultConnection anonymous, VaultAuthConfig auth, Func<string, Secret?>? automationVariable, CancellationToken ct)
    {
        var roleId = auth.RoleId ?? Environment.GetEnvironmentVariable(auth.RoleIdEnvironmentVariable!) ?? throw new EcomDrException(ErrorIds.SecretNotFound,
            FailureKind.ObjectNotFound, $"AppRole login: environment variable '{auth.RoleIdEnvironmentVariable}' (the role id) is not set.", auth.RoleIdEnvironmentVariable);
        var secretId = auth.SecretIdEnvironmentVariable is { } variable
            ? Environment.GetEnvironmentVariable(variable) is { Length: > 0 } v ? new Secret(v) : throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.ObjectNotFound,
                $"AppRole login: environment variable '{variable}' (the secret id) is not set.", variable)
            : automationVariable?.Invoke(auth.SecretIdAutomationVariable!) ?? throw new EcomDrException(ErrorIds.SecretSourceUnavailable, FailureKind.ResourceUnavailable,
                $"AppRole login: Automation variable '{auth.SecretIdAutomationVariable}' is only available inside an Azure Automation runbook (Get-AutomationVariable).", auth.SecretIdAutomationVariable);
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["role_id"] = roleId, ["secret_id"] = secretId.Reveal() });
        try
        {
            using var answer = await anonymous.SendAsync(HttpMethod.Post, $"auth/{auth.AppRoleMount}/login", body, ct, answerBadRequest: true).ConfigureAwait(false);
            if (answer.Status != HttpStatusCode.OK || answer.Json?.RootElement.TryGetProperty("auth", out var result) != true
                || result.ValueKind != JsonValueKind.Object || result.GetProperty("client_token").GetString() is not { Length: > 0 } token)
            {
                throw new EcomDrException(ErrorIds.AuthenticationFailed, FailureKind.AuthenticationError,
                    $"Vault at {anonymous.Address} refused the AppRole login at auth/{auth.AppRoleMount} (answer {(int)answer.Status}): the role id or the secret id is wrong or expired.", auth.AppRoleMount);
            }

            return new Secret(token);
        }
        catch (EcomDrException ex) when (ex.Kind == FailureKind.PermissionDenied)
        {
            throw new EcomDrException(ErrorIds.AuthenticationFailed, FailureKind.AuthenticationError,
                $"Vault at {anonymous.Address} refused the AppRole login at auth/{auth.AppRoleMount}: the role id or the secret id is wrong.", auth.AppRoleMount, ex);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(body);
        }
    }
}
