using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.Files;
using EcomDr.Engine.Sources.Grafana;

namespace EcomDr.Commands;

/// <summary>
/// Loads dashboards, folders and datasources into a Grafana by its HTTP API: from a grafana backup
/// (Export-GrafanaConfig), or from a folder (an export's files, or a restored provisioning folder of
/// dashboard JSON). -WhatIf shows what would be created and updated.
/// </summary>
[Cmdlet(VerbsData.Restore, "GrafanaConfig", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = BackupSet)]
[OutputType(typeof(GrafanaChange))]
public sealed class RestoreGrafanaConfigCommand : RepositoryCmdlet
{
    private const string BackupSet = "Backup";
    private const string FolderSet = "Folder";

    /// <summary>A grafana backup. Default: the newest.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = BackupSet)]
    [ValidateNotNullOrEmpty]
    [Alias("BackupId")]
    public string? Id { get; set; }

    /// <summary>A folder instead: an export's files, or a provisioning folder (dashboards/…/*.json).</summary>
    [Parameter(Mandatory = true, ParameterSetName = FolderSet)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>The Grafana, instead of the configuration's grafana.url.</summary>
    [Parameter]
    [ValidatePattern("^https?://")]
    public string? GrafanaUrl { get; set; }

    /// <summary>The environment variable holding a service account token. Default: grafana.tokenEnv, else GRAFANA_TOKEN.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TokenEnv { get; set; }

    /// <summary>Source folder (uid or title) to target folder uid.</summary>
    [Parameter]
    public System.Collections.Hashtable? FolderMap { get; set; }

    protected override void ProcessRecord()
    {
        var config = LoadConfig();
        var environment = Run(() => config.GetEnvironment(Environment));
        using var grafana = Run(() => GrafanaParameters.Connect(environment, GrafanaUrl, TokenEnv, config.SourcePath));
        var map = FolderMap?.Cast<System.Collections.DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => e.Value?.ToString() ?? "", StringComparer.OrdinalIgnoreCase);
        string? scratch = null;
        try
        {
            string source;
            string what;
            if (Path is not null)
            {
                source = GetUnresolvedProviderPathFromPSPath(Path);
                what = source;
            }
            else
            {
                using var repository = OpenRepository();
                var context = repository.Context;
                var backup = Id is not null
                    ? Run(ct => BackupCatalog.GetAsync(context, Id, ct))
                    : Run(ct => BackupCatalog.ListAsync(context, GrafanaExport.Kind, ct)).Where(b => b.Status == BackupStatus.Complete).OrderBy(b => b.Created).LastOrDefault();
                if (backup is null)
                {
                    Fail(Engine.Errors.ErrorIds.BackupNotFound, Engine.Errors.FailureKind.ObjectNotFound, $"No complete grafana backup in {context.Store.Location} (Export-GrafanaConfig makes one).", GrafanaExport.Kind);
                }

                // The backup's files, each checked against its SHA-256, into a folder of this process only.
                scratch = Directory.CreateTempSubdirectory("ecomdr-grafana-restore-").FullName;
                Run(ct => FileRestore.RunAsync(context, backup, new FileRestoreOptions(scratch), ct));
                source = scratch;
                what = $"grafana backup {backup.Id}";
            }

            var plan = Run(ct => GrafanaRestore.RunAsync(grafana, source, map, planOnly: true, ct));
            if (!ShouldProcess(grafana.Url.ToString(), $"Load {plan.Count(c => c.Kind == "Dashboard")} dashboard(s) and {plan.Count(c => c.Kind == "Datasource")} datasource(s) from {what}"))
            {
                if (IsWhatIf)
                {
                    WriteObject(plan, enumerateCollection: true);
                }

                return;
            }

            var changes = Run(ct => GrafanaRestore.RunAsync(grafana, source, map, planOnly: false, ct));
            foreach (var change in changes.Where(c => c.Kind == "Datasource" && c.Folder.Length > 0))
            {
                // An export never holds secrets; a provisioning file's secret variable may be unset here.
                WriteWarning($"Datasource '{change.Name}' was loaded without its secrets, {change.Folder}.");
            }

            WriteObject(changes, enumerateCollection: true);
        }
        finally
        {
            if (scratch is not null)
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }
}
