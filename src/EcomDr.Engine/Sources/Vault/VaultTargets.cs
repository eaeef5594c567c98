using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Sources.Vault;

/// <summary>
/// Which Vault a secrets job talks to and what it exports: the configuration's vault section, or an
/// address given on the command line (then a token from VAULT_TOKEN, as Vault's own CLI reads it).
/// </summary>
public static class VaultTargets
{
    /// <summary>The server: <paramref name="address"/> when given, else the section's primary or secondary.</summary>
    public static VaultServerConfig Server(EnvironmentConfig environment, string? configPath, Uri? address, string? vaultNamespace, string destination = "primary")
    {
        if (address is not null)
        {
            if (!address.IsAbsoluteUri || address.Scheme is not ("http" or "https"))
            {
                throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, $"'{address}' is not an http(s) address of a Vault.", address.ToString());
            }

            var rooted = address.AbsoluteUri.EndsWith('/') ? address : new Uri(address.AbsoluteUri + "/");
            return new VaultServerConfig(rooted, vaultNamespace, null, ConfigDefaults.VaultTlsVerify, VaultAuthConfig.Default);
        }

        var section = environment.RequireVault(configPath);
        var server = section.Target(destination, configPath ?? "embedded defaults");
        return vaultNamespace is null ? server : server with { Namespace = vaultNamespace };
    }

    /// <summary>What is exported: the mounts given (each with the prefixes given, or whole), else the section's.</summary>
    public static IReadOnlyList<SecretSource> Sources(EnvironmentConfig environment, string? configPath, IReadOnlyList<string>? mounts, IReadOnlyList<string>? prefixes)
    {
        if (mounts is { Count: > 0 })
        {
            var wanted = prefixes is { Count: > 0 } ? prefixes.Select(p => p.Trim('/')).ToList() : [""];
            return mounts.Select(m => m.Trim('/')).Distinct(StringComparer.Ordinal).SelectMany(m => wanted.Select(p => new SecretSource(m, p))).ToList();
        }

        var configured = environment.RequireVault(configPath).Mounts;
        if (configured.Count == 0)
        {
            throw new EcomDrException(ErrorIds.SourceNotConfigured, FailureKind.ObjectNotFound,
                $"{configPath ?? "embedded defaults"}: environments.{environment.Name}.vault names no mounts to export; add vault.mounts, or give -Mount.", $"environments.{environment.Name}.vault.mounts");
        }

        return configured.SelectMany(m => m.Prefixes.Count == 0 ? [new SecretSource(m.Mount, "")] : m.Prefixes.Select(p => new SecretSource(m.Mount, p))).ToList();
    }
}
