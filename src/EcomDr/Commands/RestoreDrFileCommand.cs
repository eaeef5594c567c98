using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.Files;

namespace EcomDr.Commands;

/// <summary>
/// Restores a file backup (infra, docs, migrations) into a folder: chosen entries only with -Include and
/// -Exclude, modes, times and links restored, every file checked against its SHA-256 in the signed
/// manifest, nothing written from a damaged backup, no existing file replaced without -Force.
/// </summary>
[Cmdlet(VerbsData.Restore, "DrFile", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = IdSet)]
[OutputType(typeof(FileRestoreItem))]
public sealed class RestoreDrFileCommand : RepositoryCmdlet
{
    private const string IdSet = "Id";
    private const string SetSet = "Set";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ValidateNotNullOrEmpty]
    [Alias("BackupId")]
    [ArgumentCompleter(typeof(EcomDr.Completion.BackupIdCompleter))]
    public string Id { get; set; } = "";

    /// <summary>The newest backup of this configured file set.</summary>
    [Parameter(Mandatory = true, ParameterSetName = SetSet)]
    [ValidateNotNullOrEmpty]
    public string? Set { get; set; }

    /// <summary>The folder to restore into; each entry goes to its path in the backup under it.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Only entries whose path (inside its root, or whole) matches one of these patterns.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Include { get; set; }

    /// <summary>Leave out entries whose path matches one of these patterns.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Exclude { get; set; }

    /// <summary>Replace files that exist in the destination (never a folder).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var config = LoadConfig();
        using var repository = OpenRepository();
        var context = repository.Context;
        BackupInfo backup;
        if (Set is not null)
        {
            var set = Run(() => repository.Environment.RequireFileSet(config.SourcePath, Set));
            var newest = Run(ct => BackupCatalog.ListAsync(context, set.Kind, ct)).Where(b => b.Status == BackupStatus.Complete && (string?)b.Source["set"] == set.Name)
                .OrderBy(b => b.Created).LastOrDefault();
            if (newest is null)
            {
                Fail(Engine.Errors.ErrorIds.BackupNotFound, Engine.Errors.FailureKind.ObjectNotFound, $"No complete backup of file set '{set.Name}' ({set.Kind}) in {context.Store.Location}.", set.Name);
            }

            backup = newest;
        }
        else
        {
            backup = Run(ct => BackupCatalog.GetAsync(context, Id, ct));
        }

        var destination = GetUnresolvedProviderPathFromPSPath(Destination);
        var options = new FileRestoreOptions(destination, Include, Exclude, Force);
        var plan = Run(ct => FileRestore.RunAsync(context, backup, options with { PlanOnly = true }, ct));
        var overwrites = plan.Count(p => p.Action == FileRestore.WouldOverwrite);
        if (!ShouldProcess(destination, $"Restore {plan.Count} entr(ies) of {backup.Kind} backup {backup.Id}{(overwrites > 0 ? $", replacing {overwrites} existing file(s)" : "")}"))
        {
            if (IsWhatIf)
            {
                WriteObject(plan, enumerateCollection: true);
            }

            return;
        }

        WriteObject(Run(ct => FileRestore.RunAsync(context, backup, options, ct)), enumerateCollection: true);
    }
}
