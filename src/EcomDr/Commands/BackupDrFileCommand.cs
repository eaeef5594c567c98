using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Operations.Telemetry;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.Files;

namespace EcomDr.Commands;

/// <summary>
/// Backs up files and folders (configs, docs, migration scripts) as one encrypted tar artifact, a
/// configured set (-Set) or given paths: refused when a file holds a secret, skipped when nothing
/// changed since the last backup of the same files.
/// </summary>
[Cmdlet(VerbsData.Backup, "DrFile", SupportsShouldProcess = true, DefaultParameterSetName = PathSet)]
[OutputType(typeof(BackupInfo))]
public sealed class BackupDrFileCommand : RepositoryCmdlet, IJobCmdlet
{
    private const string PathSet = "Path";
    private const string SetSet = "Set";

    /// <summary>Push this job's metrics to this Pushgateway (before ECOMDR_PUSHGATEWAY_URL and the configuration's telemetry.pushgatewayUrl).</summary>
    [Parameter]
    [ValidatePattern("^https?://")]
    public string? PushgatewayUrl { get; set; }

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>The backup kind, e.g. infra or docs.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.BackupKindCompleter))]
    public string Kind { get; set; } = "";

    /// <summary>A file set of the configuration (files.&lt;name&gt;): its paths, patterns, kind and exemptions.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = SetSet)]
    [ValidateNotNullOrEmpty]
    public string? Set { get; set; }

    /// <summary>Only files whose path (inside each root) matches one of these patterns.</summary>
    [Parameter(ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string[]? Include { get; set; }

    /// <summary>Leave out files and folders whose path matches one of these patterns.</summary>
    [Parameter(ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string[]? Exclude { get; set; }

    /// <summary>Files to keep although the secret scan flags them (patterns), besides the set's allowSecrets.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? AllowSecret { get; set; }

    /// <summary>Write a backup even when nothing changed since the last one of the same files.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

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
        var config = LoadConfig();
        var environment = Run(() => config.GetEnvironment(Environment));
        var set = Set is null ? null : Run(() => environment.RequireFileSet(config.SourcePath, Set));
        var kind = set?.Kind ?? Kind;
        var request = new FileBackupRequest(kind, set?.Paths ?? _paths, set?.Name, set?.Include ?? Include, set?.Exclude ?? Exclude,
            [.. set?.AllowSecrets ?? [], .. AllowSecret ?? []], Force, LabelsOf(Label));
        var what = set is null ? string.Join(", ", request.Paths) : $"file set '{set.Name}' ({string.Join(", ", set.Paths)})";
        if (!ShouldProcess(what, $"Back up as a '{kind}' backup"))
        {
            return;
        }

        using var repository = OpenRepository(forWriting: true);
        var progress = new LatestProgress<(string File, long Files)>();
        var activity = $"Backing up {what}";
        var result = RunJob(repository, "file-backup", kind, ct => FileBackup.RunAsync(repository.Context, request, progress, ct),
            r => new JobResult(true, r.Backup?.Size ?? 0, r.Backup?.ArtifactCount ?? 0,
                set is null ? null : new Dictionary<string, double> { [MetricNames.FileBackupInterval] = set.IntervalHours * 3600.0 }), () =>
        {
            if (progress.TryGet(out var p))
            {
                WriteProgress(new ProgressRecord(4, activity, $"{p.Files} entr(ies): {p.File}"));
            }
        });
        CompleteProgress(4, activity);
        if (result.Unchanged is { } previous)
        {
            // An unchanged tree costs nothing: said, not repeated.
            WriteInformation(new InformationRecord(
                $"Unchanged since {kind} backup {previous.Id} ({result.Files} file(s), tree {result.TreeDigest[..12]}): no new backup. -Force writes one anyway.", "Backup-DrFile"));
            return;
        }

        WriteVerbose($"{result.Files} file(s), {FormatBytes(result.Bytes)}, tree {result.TreeDigest[..12]}.");
        WriteObject(result.Backup);
    }
}
