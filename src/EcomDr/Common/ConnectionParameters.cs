using System.Management.Automation;
using System.Management.Automation.Runspaces;
using EcomDr.Engine.Config;
using EcomDr.Engine.Credentials;

namespace EcomDr.Common;

/// <summary>Parameter-set names and helpers shared by cmdlets that reach a MySQL server.</summary>
internal static class ConnectionParameters
{
    public const string ServerSet = "Server";
    public const string ConfigSet = "Config";

    public static ResolvedCredential? ToResolved(PSCredential? credential) =>
        credential is null || credential == PSCredential.Empty
            ? null
            : new ResolvedCredential(credential.UserName, new Secret(credential.GetNetworkCredential().Password));

    /// <summary>
    /// Looks up an Azure Automation credential asset through Get-AutomationPSCredential, which exists
    /// only inside a runbook. Called on the pipeline thread.
    /// </summary>
    public static Func<string, ResolvedCredential?> AutomationLookup(PSCmdlet cmdlet) => name =>
    {
        if (cmdlet.InvokeCommand.GetCommand("Get-AutomationPSCredential", CommandTypes.All) is null)
        {
            return null;
        }

        var result = cmdlet.InvokeCommand.InvokeScript("param($n) Get-AutomationPSCredential -Name $n", false,
            PipelineResultTypes.None, null, name);
        return result.Count > 0 && result[0].BaseObject is PSCredential credential ? ToResolved(credential) : null;
    };

    /// <summary>
    /// An Azure Automation variable (an AppRole secret id) through Get-AutomationVariable, which exists
    /// only inside a runbook; null elsewhere. Called on the pipeline thread.
    /// </summary>
    public static Secret? AutomationVariable(PSCmdlet cmdlet, string name)
    {
        if (cmdlet.InvokeCommand.GetCommand("Get-AutomationVariable", CommandTypes.All) is null)
        {
            return null;
        }

        var result = cmdlet.InvokeCommand.InvokeScript("param($n) Get-AutomationVariable -Name $n", false, PipelineResultTypes.None, null, name);
        return result.Count > 0 && result[0]?.BaseObject is string { Length: > 0 } text ? new Secret(text) : null;
    }

    /// <summary>
    /// The Automation variables (AppRole secret ids) of the environment's Transit key logins, read now:
    /// only the pipeline thread may call Get-AutomationVariable, and the keys log in later, on first use.
    /// Null when no Transit key needs one.
    /// </summary>
    public static Func<string, Secret?>? KeyServiceVariables(PSCmdlet cmdlet, Engine.Config.EnvironmentConfig environment)
    {
        var names = environment.Keys.Select(k => k.Transit?.Server.Auth.SecretIdAutomationVariable).OfType<string>().Distinct().ToList();
        if (names.Count == 0)
        {
            return null;
        }

        var values = names.ToDictionary(n => n, n => AutomationVariable(cmdlet, n), StringComparer.Ordinal);
        return name => values.GetValueOrDefault(name);
    }

    /// <summary>The configuration file, or the embedded defaults under the environment name asked for.</summary>
    public static EcomDrConfig LoadConfig(string? path, string? environment = null) =>
        path is null ? EmbeddedDefaults.Create(environment) : ConfigLoader.Load(path);
}
