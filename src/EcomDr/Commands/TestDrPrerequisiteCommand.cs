using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Sources.MySql.Prerequisites;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.Vault;

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
        if (ParameterSetName == ConnectionParameters.ConfigSet)
        {
            var path = GetUnresolvedProviderPathFromPSPath(Config);
            var config = Run(() => ConnectionParameters.LoadConfig(path));
            var env = Run(() => config.GetEnvironment(Environment));
            // Each source of the environment: the MySQL server, then the exported Vault.
            if (env.MySql is not null || Credential != PSCredential.Empty)
            {
                var mysql = FromConfig(config, env);
                Emit(mysql);
                if (env.MySql?.VolumeSnapshot is { } snapshots)
                {
                    WriteVerbose($"Checking the {snapshots.Provider} volume snapshot provider.");
                    Emit(Run(ct => Engine.Sources.MySql.Snapshots.SnapshotPrerequisites.RunAsync(mysql.Item1, snapshots, ct)));
                }
            }

            if (env.Vault is { Mounts.Count: > 0 } vault)
            {
                var sources = Run(() => VaultTargets.Sources(env, path, null, null));
                // The Automation variable is read here, on the pipeline thread.
                var secretId = vault.Server.Auth.SecretIdAutomationVariable is { } name ? ConnectionParameters.AutomationVariable(this, name) : null;
                WriteVerbose($"Checking the Vault at {vault.Server.Address}.");
                Emit(Run(ct => VaultPrerequisites.RunAsync(vault.Server, sources, _ => secretId, ct)));
            }

            if (env.Redis is not null)
            {
                var resolver = new Engine.Credentials.CredentialResolver(ConnectionParameters.AutomationLookup(this));
                var (redis, _) = Run(ct => Engine.Sources.Redis.RedisEndpointResolver.ResolveAsync(config, env, new Engine.Sources.Redis.RedisOverrides(null, null, null, null, null, null), resolver, ct));
                WriteVerbose($"Checking the Redis at {redis.Display}.");
                Emit(Run(ct => Engine.Sources.Redis.RedisPrerequisites.RunAsync(redis, ct)));
            }

            if (env.Files is { Count: > 0 } sets)
            {
                WriteVerbose($"Scanning {sets.Count} file set(s) for secrets.");
                Emit(Run(ct => Engine.Sources.Files.FileSetPrerequisites.RunAsync(sets, ct)));
            }

            // Then the keys: age, and what each key service allows.
            var variables = ConnectionParameters.KeyServiceVariables(this, env);
            Emit(Run(ct => Engine.Operations.Keys.KeyPrerequisites.RunAsync(env, variables, DateTimeOffset.UtcNow, ct)));
            return;
        }

        Emit(FromParameters());
    }

    private void Emit((MySqlEndpoint Endpoint, PrerequisiteOptions Options) check)
    {
        // Credentials were resolved on the pipeline thread: an Automation asset lookup must run there.
        WriteVerbose($"Checking {check.Endpoint.Display} as '{check.Endpoint.User}'.");
        Emit(Run(ct => PrerequisiteChecker.RunAsync(check.Endpoint, check.Options, ct)));
    }

    private void Emit(IReadOnlyList<PrerequisiteResult> results)
    {
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

    private (MySqlEndpoint, PrerequisiteOptions) FromConfig(Engine.Config.EcomDrConfig config, Engine.Config.EnvironmentConfig env)
    {
        var endpoint = Run(() => MySqlEndpointParameters.Resolve(this, work => Run(work), config, env, null, null, Credential, null));
        var options = new PrerequisiteOptions(env.Schedules.BinlogShipIntervalMinutes, env.Schedules.BinlogExpiryMarginHours,
            Schema ?? env.MySql?.Schemas ?? Array.Empty<string>(), Role);
        return (endpoint, options);
    }
}
