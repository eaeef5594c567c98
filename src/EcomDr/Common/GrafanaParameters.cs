using EcomDr.Engine.Config;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.Grafana;

namespace EcomDr.Common;

/// <summary>The Grafana a cmdlet talks to: -GrafanaUrl and -TokenEnv, else the environment's grafana section.</summary>
internal static class GrafanaParameters
{
    public static GrafanaClient Connect(EnvironmentConfig environment, string? url, string? tokenEnv, string? configPath)
    {
        var address = url is not null ? new Uri(url) : environment.Grafana?.Url
            ?? throw new EcomDrException(ErrorIds.SourceNotConfigured, FailureKind.ObjectNotFound,
                $"{configPath ?? "embedded defaults"}: environments.{environment.Name} has no grafana section; add one, or give -GrafanaUrl.", $"environments.{environment.Name}.grafana");
        var variable = tokenEnv ?? environment.Grafana?.TokenEnvironmentVariable ?? ConfigDefaults.GrafanaTokenEnv;
        var token = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(token))
        {
            throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.ObjectNotFound,
                $"The Grafana token is read from the environment variable {variable}, which is not set (a service account token: Editor for dashboards, Admin for datasources).", variable);
        }

        return new GrafanaClient(address, new Secret(token));
    }
}
