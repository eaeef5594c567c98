using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Commands;

/// <summary>Puts a legal or forensic hold on a backup (retention keeps it, and the chain it needs), or releases one.</summary>
[Cmdlet(VerbsCommon.Set, "DrBackupHold", SupportsShouldProcess = true, DefaultParameterSetName = HoldSet)]
[OutputType(typeof(BackupHold))]
public sealed class SetDrBackupHoldCommand : RepositoryCmdlet
{
    private const string HoldSet = "Hold";
    private const string ReleaseSet = "Release";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.BackupIdCompleter))]
    public string Id { get; set; } = "";

    /// <summary>Why the backup is held: a ticket, a case number.</summary>
    [Parameter(Mandatory = true, ParameterSetName = HoldSet)]
    [ValidateNotNullOrEmpty]
    public string Reason { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ReleaseSet)]
    public SwitchParameter Release { get; set; }

    protected override void ProcessRecord()
    {
        using var repository = OpenRepository();
        var context = repository.Context;
        // An unknown id is refused before anything is written (a hold on nothing protects nothing).
        var backup = Run(ct => BackupCatalog.GetAsync(context, Id, ct, allowUnusable: true));
        if (Release)
        {
            if (ShouldProcess($"{backup.Kind} backup {backup.Id} in {context.Store.Location}", "Release the hold") &&
                !Run(ct => BackupHolds.ReleaseAsync(context, backup.Id, ct)))
            {
                WriteWarning($"{backup.Id} had no hold in {context.Store.Name}.");
            }

            return;
        }

        if (ShouldProcess($"{backup.Kind} backup {backup.Id} in {context.Store.Location}", $"Hold ({Reason})"))
        {
            WriteObject(Run(ct => BackupHolds.SetAsync(context, backup, Reason, ct)));
        }
    }
}
