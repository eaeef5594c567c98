using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.Grafana;

namespace EcomDr.Commands;

/// <summary>
/// Takes the dashboards, folders and datasources of a running Grafana into a "grafana" file backup, by
/// its HTTP API. Datasource secrets are never exported: the cmdlet says which were set, to re-enter from the vault.
/// </summary>
[Cmdlet(VerbsData.Export, "GrafanaConfig", SupportsShouldProcess = true)]
[OutputType(typeof(BackupInfo))]
public sealed class ExportGrafanaConfigCommand : RepositoryCmdlet, IJobCmdlet
{
    /// <summary>The Grafana, instead of the configuration's grafana.url.</summary>
    [Parameter(Position = 0)]
    [ValidatePattern("^https?://")]
    public string? GrafanaUrl { get; set; }

    /// <summary>The environment variable holding a service account token. Default: grafana.tokenEnv, else GRAFANA_TOKEN.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TokenEnv { get; set; }

    /// <summary>Write a backup even when nothing changed since the last export.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public System.Collections.Hashtable? Label { get; set; }

    [Parameter]
    [ValidatePattern("^https?://")]
    public string? PushgatewayUrl { get; set; }

    protected override void EndProcessing()
    {
        var config = LoadConfig();
        var environment = Run(() => config.GetEnvironment(Environment));
        using var grafana = Run(() => GrafanaParameters.Connect(environment, GrafanaUrl, TokenEnv, config.SourcePath));
        if (!ShouldProcess(grafana.Url.ToString(), "Export dashboards, folders and datasources into a grafana backup"))
        {
            return;
        }

        using var repository = OpenRepository(forWriting: true);
        var labels = LabelsOf(Label);
        var result = RunJob(repository, "grafana-export", GrafanaExport.Kind, ct => GrafanaExport.RunAsync(repository.Context, grafana, labels, Force, ct),
            r => new JobResult(true, r.Backup?.Size ?? 0, r.Backup?.ArtifactCount ?? 0));
        if (result.SecretsLeftOut.Count > 0)
        {
            WriteWarning($"Datasource secrets are never exported; these were set and must be re-entered from the vault after a restore (Backup-VaultSecret keeps them): {string.Join(", ", result.SecretsLeftOut)}.");
        }

        WriteVerbose($"{result.Folders} folder(s), {result.Dashboards} dashboard(s), {result.Datasources} datasource(s) from {grafana.Url}.");
        if (result.Unchanged is { } previous)
        {
            WriteInformation(new InformationRecord($"Unchanged since grafana backup {previous.Id}: no new backup. -Force writes one anyway.", "Export-GrafanaConfig"));
            return;
        }

        WriteObject(result.Backup);
    }
}
