using System.Security.Cryptography;
using EcomDr.Engine.Config;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Prerequisites;
using EcomDr.Engine.Vault;

namespace EcomDr.Engine.Sources.Vault;

/// <summary>
/// What Test-DrPrerequisite checks of the exported Vault, with the token a secrets backup would use:
/// the token itself (policies, time left, renewable), each mount (KV version 2, reachable), and that
/// every configured prefix can be listed and every secret under it read, as an export does. Each
/// problem is a result with the policy that fixes it, never an exception; values read are cleared.
/// </summary>
public static class VaultPrerequisites
{
    /// <summary>Less time left than this on a token that cannot be renewed is a warning: a schedule would lose it.</summary>
    private static readonly TimeSpan ShortLife = TimeSpan.FromHours(24);

    public static async Task<IReadOnlyList<PrerequisiteResult>> RunAsync(VaultServerConfig server, IReadOnlyList<SecretSource> sources, Func<string, Secret?>? automationVariable,
        CancellationToken ct)
    {
        var where = server.Address.ToString();
        var results = new List<PrerequisiteResult>();
        VaultConnection vault;
        try
        {
            var (connection, token) = await VaultLogin.ConnectAsync(server, automationVariable, ct).ConfigureAwait(false);
            vault = connection;
            results.Add(Token(where, token));
        }
        catch (EcomDrException ex) when (ex.ErrorId is ErrorIds.AuthenticationFailed or ErrorIds.SecretNotFound or ErrorIds.SecretSourceUnavailable)
        {
            results.Add(new PrerequisiteResult(where, "Vault token", CheckStatus.Fail, $"{ex.ErrorId}: {ex.Message}", "a valid token with the default policy",
                "Check the vault.auth section and the variable or file it names (docs/configuration.md, \"vault\")."));
            return results;
        }

        var kv = new KvV2(vault);
        foreach (var mount in sources.Select(s => s.Mount).Distinct(StringComparer.Ordinal))
        {
            try
            {
                await kv.CheckMountAsync(mount, ct).ConfigureAwait(false);
                results.Add(new PrerequisiteResult(where, $"Vault mount {mount}", CheckStatus.Pass, "KV version 2, reachable", "a KV version 2 mount", ""));
            }
            catch (EcomDrException ex) when (ex.Kind is FailureKind.ObjectNotFound or FailureKind.InvalidArgument)
            {
                results.Add(new PrerequisiteResult(where, $"Vault mount {mount}", CheckStatus.Fail, ex.Message, "a KV version 2 mount the token can reach",
                    $"Name an existing KV version 2 mount in vault.mounts, or grant the token: {Policy(mount, "")}"));
            }
        }

        foreach (var source in sources.Where(s => results.Any(r => r.Check == $"Vault mount {s.Mount}" && r.Status == CheckStatus.Pass)))
        {
            results.Add(await ReadableAsync(kv, where, source, ct).ConfigureAwait(false));
        }

        return results;
    }

    private static PrerequisiteResult Token(string where, VaultTokenInfo token)
    {
        var policies = token.Policies.Count == 0 ? "no policies" : $"policies {string.Join(", ", token.Policies)}";
        var life = !token.Expires ? "no expiry" : $"{token.Ttl.TotalHours:0.#} h left{(token.Renewable ? ", renewable" : ", not renewable")}";
        var status = token.Expires && !token.Renewable && token.Ttl < ShortLife ? CheckStatus.Warn : CheckStatus.Pass;
        return new PrerequisiteResult(where, "Vault token", status, $"'{token.DisplayName}', {policies}, {life}", $"renewable, or more than {ShortLife.TotalHours:0} h left",
            status == CheckStatus.Pass ? "" : "Use a renewable token (an AppRole login, or a periodic token): Backup-VaultSecret renews it near its end.");
    }

    // LIST every folder under the prefix, then read every secret's metadata and current version, as an export does.
    private static async Task<PrerequisiteResult> ReadableAsync(KvV2 kv, string where, SecretSource source, CancellationToken ct)
    {
        var check = $"Vault read {source.Mount}/{source.Prefix}".TrimEnd('/');
        var count = 0;
        var path = "";
        try
        {
            await foreach (var secret in kv.WalkAsync(source.Mount, source.Prefix, ct).ConfigureAwait(false))
            {
                path = secret;
                var metadata = await kv.ReadMetadataAsync(source.Mount, secret, ct).ConfigureAwait(false);
                if (metadata.Versions.Any(v => v.Version == metadata.CurrentVersion && v.Readable))
                {
                    var version = await kv.ReadVersionAsync(source.Mount, secret, metadata.CurrentVersion, ct).ConfigureAwait(false);
                    if (version.Data is { } data)
                    {
                        CryptographicOperations.ZeroMemory(data);
                    }
                }

                count++;
            }
        }
        catch (EcomDrException ex) when (ex.Kind is FailureKind.PermissionDenied)
        {
            var at = path.Length == 0 ? source.Prefix : path;
            return new PrerequisiteResult(where, check, CheckStatus.Fail, $"refused at {source.Mount}/{at} after {count} secret(s): {ex.Message}",
                "every secret under it listed and read", $"Grant the token: {Policy(source.Mount, source.Prefix)}");
        }

        return new PrerequisiteResult(where, check, count == 0 ? CheckStatus.Warn : CheckStatus.Pass,
            $"{count} secret(s) listed and read", "every secret under it listed and read", count == 0 ? "Nothing is under this prefix: check vault.mounts." : "");
    }

    private static string Policy(string mount, string prefix)
    {
        var under = prefix.Length == 0 ? "" : prefix.Trim('/') + "/";
        return $"path \"{mount}/metadata/{under}*\" {{ capabilities = [\"read\", \"list\"] }} path \"{mount}/data/{under}*\" {{ capabilities = [\"read\"] }}";
    }
}
