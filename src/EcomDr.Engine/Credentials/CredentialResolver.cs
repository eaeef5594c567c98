using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Vault;

namespace EcomDr.Engine.Credentials;

/// <summary>A user name and its password, resolved at the last moment.</summary>
public sealed record ResolvedCredential(string User, Secret Password);

/// <summary>
/// Turns a credential reference from the configuration into a credential. Azure Automation assets
/// exist only inside a PowerShell runbook, so the module supplies the lookup for them.
/// </summary>
public sealed class CredentialResolver
{
    private readonly Func<string, ResolvedCredential?>? _automationLookup;
    private readonly Func<VaultConnection> _vaultFactory;

    public CredentialResolver(Func<string, ResolvedCredential?>? automationLookup = null, Func<VaultConnection>? vaultFactory = null)
    {
        _automationLookup = automationLookup;
        _vaultFactory = vaultFactory ?? (() => VaultConnection.FromEnvironment(SharedHttp.Client));
    }

    public async Task<ResolvedCredential> ResolveAsync(CredentialReference reference, string where, CancellationToken cancellationToken)
    {
        if (reference.PasswordEnvironmentVariable is { } variable)
        {
            var value = Environment.GetEnvironmentVariable(variable);
            if (value is null)
            {
                throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.ObjectNotFound,
                    $"{where}: environment variable '{variable}' (named by passwordEnv) is not set.", variable);
            }

            return new ResolvedCredential(reference.User!, new Secret(value));
        }

        if (reference.AutomationCredential is { } asset)
        {
            var found = _automationLookup?.Invoke(asset) ?? throw new EcomDrException(ErrorIds.SecretSourceUnavailable,
                FailureKind.ResourceUnavailable,
                $"{where}: Automation credential '{asset}' is only available inside an Azure Automation runbook (Get-AutomationPSCredential).",
                asset);
            return reference.User is null ? found : found with { User = reference.User };
        }

        var path = reference.VaultPath!;
        var fields = await VaultSecretReader.ReadFieldsAsync(_vaultFactory(), path, cancellationToken).ConfigureAwait(false);
        var field = reference.VaultField ?? "password";
        if (!fields.TryGetValue(field, out var password))
        {
            throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.ObjectNotFound,
                $"{where}: Vault secret '{path}' has no field '{field}'.", path);
        }

        var user = reference.User ?? fields.GetValueOrDefault("username") ?? throw new EcomDrException(ErrorIds.SecretNotFound,
            FailureKind.ObjectNotFound, $"{where}: no user given and Vault secret '{path}' has no 'username' field.", path);
        return new ResolvedCredential(user, new Secret(password));
    }
}

/// <summary>One HttpClient for the process, as HttpClient is meant to be used.</summary>
internal static class SharedHttp
{
    public static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(30) };
}
