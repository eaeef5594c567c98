using System.Management.Automation;
using EcomDr.Engine.Config;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Common;

/// <summary>
/// Base of cmdlets that read from the environment's MySQL/MariaDB source: -Server, -Port,
/// -Credential and -SslMode override the configured source.
/// </summary>
public abstract class MySqlSourceCmdlet : RepositoryCmdlet
{
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Server { get; set; }

    [Parameter]
    [ValidateRange(1, 65535)]
    public int? Port { get; set; }

    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    [Parameter]
    [ValidateSet("None", "Preferred", "Required", "VerifyCA", "VerifyFull")]
    public string? SslMode { get; set; }

    /// <summary>The source to connect to: the explicit parameters, else the environment's configured server.</summary>
    private protected MySqlEndpoint ResolveSource(EcomDrConfig config, EnvironmentConfig environment) =>
        Run(() => MySqlEndpointParameters.Resolve(this, work => Run(work), config, environment, Server, Port, Credential, SslMode));
}
