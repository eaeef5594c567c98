using System.Net;
using System.Text.Json;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Vault;

/// <summary>What Vault says of the token in use (auth/token/lookup-self): never the token itself.</summary>
public sealed record VaultTokenInfo(string? DisplayName, IReadOnlyList<string> Policies, TimeSpan Ttl, TimeSpan CreationTtl, bool Renewable, DateTimeOffset? ExpireTime)
{
    /// <summary>A root or periodic token without an end has TTL 0.</summary>
    public bool Expires => Ttl > TimeSpan.Zero;
}

/// <summary>The token endpoints every token may call under Vault's default policy: lookup-self and renew-self.</summary>
public static class VaultToken
{
    /// <summary>
    /// Looks the token up. Vault answers 403 to a token it does not know, so a refusal here means a
    /// wrong, expired or revoked token (or one created without the default policy): a clear
    /// authentication error before any path is read.
    /// </summary>
    public static async Task<VaultTokenInfo> LookupSelfAsync(VaultConnection vault, CancellationToken ct)
    {
        VaultAnswer answer;
        try
        {
            answer = await vault.SendAsync(HttpMethod.Get, "auth/token/lookup-self", null, ct).ConfigureAwait(false);
        }
        catch (EcomDrException ex) when (ex.Kind == FailureKind.PermissionDenied)
        {
            throw new EcomDrException(ErrorIds.AuthenticationFailed, FailureKind.AuthenticationError,
                $"Vault at {vault.Address} rejected the token: it is wrong, expired or revoked (or lacks the default policy, which grants auth/token/lookup-self).", vault.Address.ToString(), ex);
        }

        using (answer)
        {
            if (answer.Status != HttpStatusCode.OK || answer.Json is null || !answer.Json.RootElement.TryGetProperty("data", out var data))
            {
                throw new EcomDrException(ErrorIds.AuthenticationFailed, FailureKind.AuthenticationError, $"Vault at {vault.Address} answered {(int)answer.Status} to a token lookup.", vault.Address.ToString());
            }

            var policies = data.TryGetProperty("policies", out var p) && p.ValueKind == JsonValueKind.Array ? p.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : new List<string>();
            DateTimeOffset? expire = data.TryGetProperty("expire_time", out var e) && e.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(e.GetString(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var at) ? at : null;
            return new VaultTokenInfo(data.TryGetProperty("display_name", out var n) ? n.GetString() : null, policies, Seconds(data, "ttl"), Seconds(data, "creation_ttl"),
                data.TryGetProperty("renewable", out var r) && r.ValueKind == JsonValueKind.True, expire);
        }
    }

    /// <summary>
    /// Renews a renewable token whose remaining TTL is under a third of its creation TTL (or under 10
    /// minutes): a schedule running every few minutes keeps its token alive. Returns the new lookup,
    /// or the one given when nothing was needed.
    /// </summary>
    public static async Task<(VaultTokenInfo Info, bool Renewed)> RenewIfNearEndAsync(VaultConnection vault, VaultTokenInfo info, CancellationToken ct)
    {
        var threshold = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMinutes(10).Ticks, info.CreationTtl.Ticks / 3));
        if (!info.Renewable || !info.Expires || info.Ttl >= threshold)
        {
            return (info, false);
        }

        using (await vault.SendAsync(HttpMethod.Post, "auth/token/renew-self", "{}"u8.ToArray(), ct).ConfigureAwait(false))
        {
        }

        return (await LookupSelfAsync(vault, ct).ConfigureAwait(false), true);
    }

    private static TimeSpan Seconds(JsonElement data, string name) =>
        data.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? TimeSpan.FromSeconds(v.GetInt64()) : TimeSpan.Zero;
}
