using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Config;

namespace EcomDr.Commands;

/// <summary>The file sets of the configuration (files.&lt;name&gt;): what Backup-DrFile -Set backs up, and where the runbooks copy it.</summary>
[Cmdlet(VerbsCommon.Get, "DrFileSet")]
[OutputType(typeof(FileSetConfig))]
public sealed class GetDrFileSetCommand : EcomDrCmdlet
{
    /// <summary>Set names; * and ? wildcards.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    /// <summary>Only sets of these kinds (infra, docs, migrations).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.BackupKindCompleter))]
    public string[]? Kind { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Config { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.EnvironmentCompleter))]
    public string? Environment { get; set; }

    protected override void ProcessRecord()
    {
        var config = Run(() => ConnectionParameters.LoadConfig(Config is null ? null : GetUnresolvedProviderPathFromPSPath(Config), Environment));
        var environment = Run(() => config.GetEnvironment(Environment));
        var patterns = Name?.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (var set in (environment.Files ?? new Dictionary<string, FileSetConfig>()).Values.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            if ((patterns is null || patterns.Any(p => p.IsMatch(set.Name))) && (Kind is null || Kind.Contains(set.Kind, StringComparer.OrdinalIgnoreCase)))
            {
                WriteObject(set);
            }
        }
    }
}
