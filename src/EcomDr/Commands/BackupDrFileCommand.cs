using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Operations.Telemetry;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.Files;

namespace EcomDr.Commands;

/// <summary>Backs up files and folders (configs, docs, migration scripts) as one encrypted tar artifact.</summary>
[Cmdlet(VerbsData.Backup, "DrFile", SupportsShouldProcess = true)]
[OutputType(typeof(BackupInfo))]
public sealed class BackupDrFileCommand : RepositoryCmdlet, IJobCmdlet
{
    /// <summary>Push this job's metrics to this Pushgateway (before ECOMDR_PUSHGATEWAY_URL and the configuration's telemetry.pushgatewayUrl).</summary>
    [Parameter]
    [ValidatePattern("^https?://")]
    public string? PushgatewayUrl { get; set; }

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>The backup kind, e.g. infra or docs.</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.BackupKindCompleter))]
    public string Kind { get; set; } = "";

    [Parameter]
    public System.Collections.Hashtable? Label { get; set; }

    private readonly List<string> _paths = new();

    protected override void ProcessRecord()
    {
        foreach (var path in Path)
        {
            try
            {
                _paths.AddRange(GetResolvedProviderPathFromPSPath(path, out _));
            }
            catch (ItemNotFoundException ex)
            {
                // Nothing is backed up when one of the paths is missing: a partial backup would look whole.
                Fail(Engine.Errors.ErrorIds.PathNotFound, Engine.Errors.FailureKind.ObjectNotFound, $"'{path}' does not exist; nothing was backed up.", path, ex);
            }
        }
    }

    protected override void EndProcessing()
    {
        if (!ShouldProcess(string.Join(", ", _paths), $"Back up as a '{Kind}' backup"))
        {
            return;
        }

        using var repository = OpenRepository(forWriting: true);
        var labels = Label?.Cast<System.Collections.DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => e.Value?.ToString() ?? "");
        var progress = new LatestProgress<(string File, long Files)>();
        var activity = $"Backing up files as '{Kind}'";
        var backup = RunJob(repository, "file-backup", Kind, ct => FileBackup.RunAsync(repository.Context, Kind, _paths, labels, progress, ct),
            b => new JobResult(true, b.Size, b.ArtifactCount), () =>
        {
            if (progress.TryGet(out var p))
            {
                WriteProgress(new ProgressRecord(4, activity, $"{p.Files} file(s): {p.File}"));
            }
        });
        CompleteProgress(4, activity);
        WriteObject(backup);
    }
}
