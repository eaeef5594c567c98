using System.Management.Automation;
using EcomDr.Engine.Config;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Common;

/// <summary>Resolves a MySQL endpoint from explicit parameters, or from the environment's configured source.</summary>
internal static class MySqlEndpointParameters
{
    public static MySqlEndpoint Resolve(EcomDrCmdlet cmdlet, Func<Func<CancellationToken, Task<MySqlEndpoint>>, MySqlEndpoint> run,
        EcomDrConfig config, EnvironmentConfig environment, string? server, int? port, PSCredential? credential, string? sslMode)
    {
        // Credential may be PSCredential.Empty (a parameter's default): that means "not given".
        var explicitCredential = ConnectionParameters.ToResolved(credential);
        if (server is not null)
        {
            if (explicitCredential is null)
            {
                throw new Engine.Errors.EcomDrException(Engine.Errors.ErrorIds.InvalidArgument, Engine.Errors.FailureKind.InvalidArgument,
                    $"-Credential is required with an explicit server ({server}).", server);
            }

            return new MySqlEndpoint(server, port ?? Engine.Config.ConfigDefaults.MySqlPort, explicitCredential.User, explicitCredential.Password, sslMode ?? Engine.Config.ConfigDefaults.MySqlSslMode);
        }

        var source = environment.RequireMySql(config.SourcePath);
        var resolver = new CredentialResolver(ConnectionParameters.AutomationLookup(cmdlet));
        var endpoint = run(ct => SourceEndpointResolver.ResolveAsync(config, environment, explicitCredential, resolver, ct));
        return endpoint with { Port = port ?? source.Port, SslMode = sslMode ?? source.SslMode };
    }
}
