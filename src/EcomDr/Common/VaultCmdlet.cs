using System.Management.Automation;
using EcomDr.Engine.Config;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.Vault;
using EcomDr.Engine.Vault;

namespace EcomDr.Common;

/// <summary>Base of the secrets cmdlets: a repository, and a Vault from the configuration's vault section or from -VaultAddress.</summary>
public abstract class VaultCmdlet : RepositoryCmdlet
{
    /// <summary>The Vault to talk to instead of the configured one; the token then comes from VAULT_TOKEN.</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? VaultAddress { get; set; }

    /// <summary>Vault Enterprise namespace (X-Vault-Namespace), over the configured one.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? VaultNamespace { get; set; }

    /// <summary>The configuration file's path as the engine names it in messages.</summary>
    private protected string? ConfigPath => Config is null ? null : GetUnresolvedProviderPathFromPSPath(Config);

    /// <summary>
    /// The plan of writing a secrets backup (by id, or the newest) into the destination Vault, compared
    /// with what it holds; with the client that writes it.
    /// </summary>
    private protected (SecretRestorePlan Plan, KvV2 Target) PlanRestore(OpenedRepository repository, string? id, string destination, SecretSelection selection,
        int version, bool overwrite)
    {
        var context = repository.Context;
        var backup = Run(ct => SecretRestore.FindAsync(context, id, ct));
        var server = Run(() => VaultTargets.Server(repository.Environment, ConfigPath, VaultAddress, VaultNamespace, destination));
        var kv = new KvV2(ConnectVault(server));
        return (Run(ct => SecretRestore.PlanAsync(context, backup, kv, server.Address, selection, version, overwrite, ct)), kv);
    }

    /// <summary>Logs in (the token is looked up first, renewed when near its end) and says who it is, never the token.</summary>
    private protected VaultConnection ConnectVault(VaultServerConfig server)
    {
        // Get-AutomationVariable runs on the pipeline thread, before the engine's work.
        var secretId = server.Auth.SecretIdAutomationVariable is { } name ? ConnectionParameters.AutomationVariable(this, name) : null;
        var (vault, token) = Run(ct => VaultLogin.ConnectAsync(server, _ => secretId, ct));
        var (info, renewed) = Run(ct => VaultToken.RenewIfNearEndAsync(vault, token, ct));
        WriteVerbose($"Vault {server.Address}: token '{info.DisplayName}', policies {string.Join(", ", info.Policies)}, " +
            (info.Expires ? $"{info.Ttl.TotalMinutes:0} minute(s) left{(renewed ? " after renewal" : "")}." : "no expiry."));
        return vault;
    }

}
