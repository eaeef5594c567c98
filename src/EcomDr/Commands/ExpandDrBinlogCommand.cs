using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Commands;

/// <summary>Puts binlog files back together from the shipped segments piped in (Get-BinlogChain), one file per binlog.</summary>
[Cmdlet(VerbsData.Expand, "DrBinlog", SupportsShouldProcess = true)]
[OutputType(typeof(AssembledBinlog))]
public sealed class ExpandDrBinlogCommand : RepositoryCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public BinlogSegment[] Segment { get; set; } = Array.Empty<BinlogSegment>();

    /// <summary>The folder the files are written to, under the server's own file names.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Replace files that exist.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private readonly List<BinlogSegment> _segments = new();

    protected override void ProcessRecord() => _segments.AddRange(Segment);

    protected override void EndProcessing()
    {
        // Checked whole before anything is written: a hole in one file writes none of them.
        var files = Run(() => BinlogFileAssembler.Plan(_segments));
        if (files.Count == 0)
        {
            return;
        }

        var folder = GetUnresolvedProviderPathFromPSPath(Destination);
        var first = _segments[0];
        Store = first.Store;
        Environment ??= first.Environment;
        using var repository = OpenRepository();
        foreach (var file in files)
        {
            if (!ShouldProcess(System.IO.Path.Join(folder, file[0].File), $"Write {file[0].File} from {file.Count} shipped segment(s)"))
            {
                continue;
            }

            var assembled = Run(ct => BinlogFileAssembler.AssembleAsync(repository.Context, file, folder, Force, ct));
            if (assembled.Partial)
            {
                WriteWarning($"{assembled.File} was still being written when last shipped: it ends at {assembled.Bytes} bytes, where the server's file may since have grown.");
            }

            WriteObject(assembled);
        }
    }
}
