using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Operations.Telemetry;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Commands;

/// <summary>Copies a backup to another repository (offsite), verifying every artifact there and writing the manifest last.</summary>
[Cmdlet(VerbsCommon.Copy, "DrBackup", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(BackupInfo))]
public sealed class CopyDrBackupCommand : RepositoryCmdlet, IJobCmdlet
{
    /// <summary>Push this job's metrics to this Pushgateway (before ECOMDR_PUSHGATEWAY_URL and the configuration's telemetry.pushgatewayUrl).</summary>
    [Parameter]
    [ValidatePattern("^https?://")]
    public string? PushgatewayUrl { get; set; }

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [Alias("BackupId")]
    [ArgumentCompleter(typeof(EcomDr.Completion.BackupIdCompleter))]
    public string Id { get; set; } = "";

    /// <summary>Name of the destination repository in the configuration (for example offsite).</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.StoreCompleter))]
    public string Destination { get; set; } = "";

    /// <summary>A destination location instead of a configured repository: a folder or s3://bucket/prefix.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DestinationRepository { get; set; }

    protected override void ProcessRecord()
    {
        using var repository = OpenRepository();
        // It changes what the repository holds: completion lists are read again.
        Engine.Operations.Completion.CompletionCache.Shared.Invalidate();
        var context = repository.Context;
        var backup = Run(ct => BackupCatalog.GetAsync(context, Id, ct));
        var destination = DestinationRepository is null
            ? Run(() => repository.OpenStore(Destination))
            : Run(() => Engine.Pipeline.Storage.StoreFactory.FromLocation(Destination,
                DestinationRepository.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) ? DestinationRepository : GetUnresolvedProviderPathFromPSPath(DestinationRepository)));
        try
        {
            if (!ShouldProcess($"{destination.Location} ({destination.Name})", $"Copy {backup.Kind} backup {Id} ({FormatBytes(backup.Size)})"))
            {
                return;
            }

            var progress = new LatestProgress<(string Artifact, long Bytes)>();
            var activity = $"Copying {backup.Kind} backup {Id} to {destination.Name}";
            var started = DateTimeOffset.UtcNow;
            var copied = TryRun(ct => BackupCopier.CopyAsync(context, destination, backup.Kind, Id, progress, ct), out var result, () =>
            {
                if (progress.TryGet(out var p))
                {
                    WriteProgress(new ProgressRecord(3, activity, $"{p.Artifact}: {FormatBytes(p.Bytes)}"));
                }
            });
            CompleteProgress(3, activity);
            // Labelled with the destination: "offsite behind" compares this with the primary's backups.
            Record(repository, new JobOutcome(context.Environment, "offsite-copy", backup.Kind, destination.Name, started, DateTimeOffset.UtcNow, copied,
                copied ? result!.BytesCopied : 0, copied ? result!.Copied : 0));
            if (copied)
            {
                WriteVerbose($"{Id}: {result!.Copied} artifact(s) copied ({FormatBytes(result.BytesCopied)}), {result.Skipped} already verified at {destination.Location}.");
                WriteObject(result.Backup);
            }
        }
        finally
        {
            (destination as IDisposable)?.Dispose();
        }
    }
}
