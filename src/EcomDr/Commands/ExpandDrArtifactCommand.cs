using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Commands;

/// <summary>Decrypts and decompresses artifacts of a backup back into plain files.</summary>
[Cmdlet(VerbsData.Expand, "DrArtifact", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExpandDrArtifactCommand : RepositoryCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [Alias("BackupId")]
    [ArgumentCompleter(typeof(EcomDr.Completion.BackupIdCompleter))]
    public string Id { get; set; } = "";

    /// <summary>Artifact name or wildcard pattern (default: all artifacts).</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string? Artifact { get; set; }

    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Private break-glass RSA key: recovers without the normal key provider.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? BreakGlassKey { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        using var repository = OpenRepository(breakGlass: BreakGlassKey);
        var context = repository.Context;
        var backup = Run(ct => BackupCatalog.GetAsync(context, Id, ct));
        var artifacts = Run(() => ArtifactExpander.Match(backup.Manifest!, Artifact));
        var root = GetUnresolvedProviderPathFromPSPath(Destination);
        var index = 0;
        foreach (var artifact in artifacts)
        {
            var target = System.IO.Path.Join(root, artifact.Name.Replace('/', System.IO.Path.DirectorySeparatorChar));
            if (!ShouldProcess(target, $"Expand artifact {artifact.Name} of backup {Id}"))
            {
                continue;
            }

            WriteProgress(new ProgressRecord(2, $"Expanding backup {Id}", artifact.Name) { PercentComplete = 100 * index++ / artifacts.Count });
            if (TryRun(ct => ArtifactExpander.ExpandAsync(context, backup, artifact, target, Force, ct), out var file))
            {
                WriteObject(file);
            }
        }

        CompleteProgress(2, $"Expanding backup {Id}");
    }
}
