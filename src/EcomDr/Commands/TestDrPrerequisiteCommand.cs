using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Sources.MySql.Prerequisites;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Commands;

/// <summary>Checks that a MySQL/MariaDB server is ready to be backed up and recovered to a point in time.</summary>
[Cmdlet(VerbsDiagnostic.Test, "DrPrerequisite", DefaultParameterSetName = ConnectionParameters.ServerSet)]
[OutputType(typeof(PrerequisiteResult))]
public sealed class TestDrPrerequisiteCommand : EcomDrCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ConnectionParameters.ServerSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [Alias("ComputerName", "HostName")]
    public string Server { get; set; } = string.Empty;

    [Parameter(ParameterSetName = ConnectionParameters.ServerSet, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 65535)]
    public int Port { get; set; } = Engine.Config.ConfigDefaults.MySqlPort;

    [Parameter(Mandatory = true, ParameterSetName = ConnectionParameters.ServerSet)]
    [Parameter(ParameterSetName = ConnectionParameters.ConfigSet)]
    [Credential]
    public PSCredential Credential { get; set; } = PSCredential.Empty;

    [Parameter(ParameterSetName = ConnectionParameters.ServerSet)]
    [ValidateSet("None", "Preferred", "Required", "VerifyCA", "VerifyFull")]
    public string SslMode { get; set; } = Engine.Config.ConfigDefaults.MySqlSslMode;

    [Parameter(Mandatory = true, ParameterSetName = ConnectionParameters.ConfigSet)]
    [ValidateNotNullOrEmpty]
    public string Config { get; set; } = string.Empty;

    [Parameter(ParameterSetName = ConnectionParameters.ConfigSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.EnvironmentCompleter))]
    public string? Environment { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Schema { get; set; }

    /// <summary>Backup: a source backed up and shipped (the default). Restore: a server restored into, recovered and swapped on.</summary>
    [Parameter]
    [ValidateSet("Backup", "Restore")]
    public string Role { get; set; } = "Backup";

    [Parameter(ParameterSetName = ConnectionParameters.ServerSet)]
    [ValidateRange(1, 1440)]
    public int BinlogShipIntervalMinutes { get; set; } = 15;

    [Parameter(ParameterSetName = ConnectionParameters.ServerSet)]
    [ValidateRange(0, 8760)]
    public int BinlogExpiryMarginHours { get; set; } = 24;

    protected override void ProcessRecord()
    {
        // Config and credentials are resolved on the pipeline thread: an Automation asset lookup must run here.
        var (endpoint, options) = ParameterSetName == ConnectionParameters.ConfigSet ? FromConfig() : FromParameters();
        WriteVerbose($"Checking {endpoint.Display} as '{endpoint.User}'.");
        var results = Run(ct => PrerequisiteChecker.RunAsync(endpoint, options, ct));
        foreach (var result in results)
        {
            WriteVerbose($"{result.Check}: {result.Status} ({result.Observed})");
            WriteObject(result);
        }
    }

    private (MySqlEndpoint, PrerequisiteOptions) FromParameters()
    {
        var credential = ConnectionParameters.ToResolved(Credential)!;
        var endpoint = new MySqlEndpoint(Server, Port, credential.User, credential.Password, SslMode);
        return (endpoint, new PrerequisiteOptions(BinlogShipIntervalMinutes, BinlogExpiryMarginHours, Schema, Role));
    }

    private (MySqlEndpoint, PrerequisiteOptions) FromConfig()
    {
        var config = Run(() => ConnectionParameters.LoadConfig(GetUnresolvedProviderPathFromPSPath(Config)));
        var env = Run(() => config.GetEnvironment(Environment));
        var endpoint = Run(() => MySqlEndpointParameters.Resolve(this, work => Run(work), config, env, null, null, Credential, null));
        var options = new PrerequisiteOptions(env.Schedules.BinlogShipIntervalMinutes, env.Schedules.BinlogExpiryMarginHours,
            Schema ?? env.MySql?.Schemas ?? Array.Empty<string>(), Role);
        return (endpoint, options);
    }
}
