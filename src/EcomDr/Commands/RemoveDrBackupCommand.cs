using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Commands;

/// <summary>Deletes backups from a repository: one by id, or every incomplete one.</summary>
[Cmdlet(VerbsCommon.Remove, "DrBackup", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = IdSet)]
[OutputType(typeof(BackupInfo))]
public sealed class RemoveDrBackupCommand : RepositoryCmdlet
{
    private const string IdSet = "Id";
    private const string IncompleteSet = "Incomplete";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ValidateNotNullOrEmpty]
    [Alias("BackupId")]
    [ArgumentCompleter(typeof(EcomDr.Completion.BackupIdCompleter))]
    public string Id { get; set; } = "";

    /// <summary>Remove every incomplete backup (no manifest) of the environment, optionally of one kind.</summary>
    [Parameter(Mandatory = true, ParameterSetName = IncompleteSet)]
    public SwitchParameter Incomplete { get; set; }

    [Parameter(ParameterSetName = IncompleteSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.BackupKindCompleter))]
    public string? Kind { get; set; }

    /// <summary>Skip confirmation prompts (unattended runs).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Write each removed backup to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        using var repository = OpenRepository();
        // It changes what the repository holds: completion lists are read again.
        Engine.Operations.Completion.CompletionCache.Shared.Invalidate();
        var context = repository.Context;
        var all = Run(ct => BackupCatalog.ListAsync(context, Kind, ct));
        IReadOnlyList<BackupInfo> targets;
        if (Incomplete)
        {
            targets = all.Where(b => b.Status == BackupStatus.Incomplete).ToList();
            if (targets.Count == 0)
            {
                WriteVerbose($"No incomplete backup in {context.Store.Location}.");
            }
        }
        else
        {
            targets = all.Where(b => b.Id == Id).ToList();
            if (targets.Count == 0)
            {
                Fail(Engine.Errors.ErrorIds.BackupNotFound, Engine.Errors.FailureKind.ObjectNotFound,
                    $"No backup '{Id}' in {context.Store.Location} for environment '{context.Environment}'.", Id);
            }
        }

        foreach (var backup in targets)
        {
            var what = $"{backup.Status} {backup.Kind} backup {backup.Id} ({backup.ArtifactCount} object(s), {FormatBytes(backup.Size)}) in {context.Store.Location}";
            // What would become unrecoverable is said before anything goes; only -Force goes on.
            var lost = Run(ct => RecoveryWindow.LostByRemovingAsync(context, backup, DateTimeOffset.UtcNow, ct));
            if (lost.Count > 0 && !Force)
            {
                WriteFailure(Engine.Errors.ErrorIds.BackupStillNeeded, Engine.Errors.FailureKind.InvalidOperation,
                    $"{backup.Id} was not removed: {string.Join("; and ", lost)}. Use -Force to remove it anyway.", backup.Id);
                continue;
            }

            foreach (var reason in lost)
            {
                WriteWarning($"Removing {backup.Id}: {reason}.");
            }

            if (!ShouldProcessUnlessForced(Force, what, "Remove"))
            {
                continue;
            }

            // A volume snapshot's provider snapshots go first: if they cannot, the backup stays whole.
            if (backup.Kind == BackupKinds.MySqlSnapshot && backup.Status == BackupStatus.Complete)
            {
                var provider = repository.Environment.MySql?.VolumeSnapshot is { } configured ? Run(configured.CreateProvider) : null;
                if (Run(ct => new Engine.Operations.Retention.SnapshotExpiry(context, provider).DeleteSnapshotsAsync(backup, ct)) is { } failed)
                {
                    WriteFailure(Engine.Errors.ErrorIds.SnapshotProviderFailed, Engine.Errors.FailureKind.InvalidOperation,
                        $"{backup.Id} was not removed: its volume snapshot could not be deleted ({failed}). It is marked for a retry; retention retries it.", backup.Id);
                    continue;
                }
            }

            if (TryRun(ct => BackupRemover.RemoveAsync(context, backup, ct), out var removed))
            {
                WriteVerbose($"Removed {removed} object(s) of {backup.Id}.");
                if (PassThru)
                {
                    WriteObject(backup);
                }
            }
        }
    }
}
