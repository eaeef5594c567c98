namespace EcomDr.Engine.Config;

/// <summary>
/// The environment's Vault: the server exported (its KV v2 mounts and prefixes) and the secondary
/// vault that exports are re-injected into to keep it warm (docs/configuration.md, "vault").
/// </summary>
public sealed record VaultConfig(VaultServerConfig Server, IReadOnlyList<VaultMountConfig> Mounts, VaultServerConfig? Secondary)
{
    /// <summary>The server named by a destination: "primary" (the exported one) or "secondary".</summary>
    public VaultServerConfig Target(string destination, string where) => destination.ToLowerInvariant() switch
    {
        "primary" => Server,
        "secondary" => Secondary ?? throw new Errors.EcomDrException(Errors.ErrorIds.SourceNotConfigured, Errors.FailureKind.ObjectNotFound,
            $"{where}: the vault section has no secondary; add vault.secondary, or give the target's address.", "vault.secondary"),
        _ => throw new Errors.EcomDrException(Errors.ErrorIds.InvalidArgument, Errors.FailureKind.InvalidArgument,
            $"'{destination}' is no vault of the configuration (primary or secondary).", destination),
    };
}

/// <summary>One Vault server: its address, namespace, TLS trust and how EcomDr logs in.</summary>
public sealed record VaultServerConfig(Uri Address, string? Namespace, string? CaFile, bool TlsVerify, VaultAuthConfig Auth);

/// <summary>A KV version 2 mount and the path prefixes exported under it (empty: the whole mount).</summary>
public sealed record VaultMountConfig(string Mount, IReadOnlyList<string> Prefixes);

public enum VaultAuthMethod
{
    /// <summary>A token from an environment variable (VAULT_TOKEN by default).</summary>
    Token,

    /// <summary>A token read from a file (as the Vault agent's sink writes it).</summary>
    TokenFile,

    /// <summary>AppRole: a role id, and a secret id from an environment variable or an Automation variable.</summary>
    AppRole,
}

/// <summary>
/// How to obtain a Vault token, never the token: the variable or file that holds it, or the AppRole
/// role id and where its secret id is found.
/// </summary>
public sealed record VaultAuthConfig(
    VaultAuthMethod Method,
    string TokenEnvironmentVariable,
    string? TokenFile,
    string AppRoleMount,
    string? RoleId,
    string? RoleIdEnvironmentVariable,
    string? SecretIdEnvironmentVariable,
    string? SecretIdAutomationVariable)
{
    /// <summary>A token from VAULT_TOKEN, as Vault's own CLI reads it: what an auth section left out, or an address given alone, means.</summary>
    public static VaultAuthConfig Default { get; } =
        new(VaultAuthMethod.Token, ConfigDefaults.VaultTokenEnv, null, ConfigDefaults.VaultAppRoleMount, null, null, null, null);
}
