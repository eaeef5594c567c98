using EcomDr.Engine.Config;
using EcomDr.Engine.Credentials;

namespace EcomDr.Engine.Sources.Redis;

/// <summary>What a cmdlet's parameters say about a Redis, each overriding the configuration's redis section.</summary>
public sealed record RedisOverrides(string? Server, int? Port, RedisTlsMode? Tls, string? CaFile, int? ReadTimeoutSeconds, ResolvedCredential? Credential);

/// <summary>
/// The Redis a snapshot job talks to: the explicit server (then only what the parameters say), or the
/// environment's redis section with its credential reference resolved at the last moment.
/// </summary>
public static class RedisEndpointResolver
{
    public static async Task<(RedisEndpoint Endpoint, IReadOnlyList<int> ExpectedDatabases)> ResolveAsync(EcomDrConfig config, EnvironmentConfig environment,
        RedisOverrides overrides, CredentialResolver resolver, CancellationToken ct)
    {
        if (overrides.Server is { } server)
        {
            return (new RedisEndpoint(server, overrides.Port ?? ConfigDefaults.RedisPort, overrides.Tls ?? RedisTlsMode.None, overrides.CaFile,
                overrides.Credential?.User, overrides.Credential?.Password,
                TimeSpan.FromSeconds(overrides.ReadTimeoutSeconds ?? ConfigDefaults.RedisReadTimeoutSeconds)), []);
        }

        var source = environment.RequireRedis(config.SourcePath);
        var credential = overrides.Credential
            ?? (source.Credential is { } reference
                ? await resolver.ResolveAsync(reference, $"{config.SourcePath ?? "embedded defaults"}: environments.{environment.Name}.redis.credential", ct).ConfigureAwait(false)
                : null);
        return (new RedisEndpoint(source.Server, overrides.Port ?? source.Port, overrides.Tls ?? source.Tls, overrides.CaFile ?? source.CaFile,
            credential?.User, credential?.Password, TimeSpan.FromSeconds(overrides.ReadTimeoutSeconds ?? source.ReadTimeoutSeconds)), source.Databases);
    }
}
