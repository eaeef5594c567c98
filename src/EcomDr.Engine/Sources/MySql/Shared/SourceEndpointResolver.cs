using EcomDr.Engine.Config;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Sources.MySql.Shared;

/// <summary>Builds the endpoint of an environment's MySQL source: config, then explicit overrides.</summary>
public static class SourceEndpointResolver
{
    public static async Task<MySqlEndpoint> ResolveAsync(EcomDrConfig config, EnvironmentConfig environment,
        ResolvedCredential? explicitCredential, CredentialResolver resolver, CancellationToken cancellationToken)
    {
        var source = environment.RequireMySql(config.SourcePath);
        var where = $"{config.SourcePath ?? "embedded defaults"}: environments.{environment.Name}.mysql.credential";
        var credential = explicitCredential
            ?? (source.Credential is { } reference
                ? await resolver.ResolveAsync(reference, where, cancellationToken).ConfigureAwait(false)
                : throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.InvalidArgument,
                    $"{where}: no credential configured; pass -Credential or add a credential reference.", environment.Name));
        return new MySqlEndpoint(source.Server, source.Port, credential.User, credential.Password, source.SslMode);
    }
}
