using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Commands;

/// <summary>Lists the shipped binlog segments of an environment, oldest first.</summary>
[Cmdlet(VerbsCommon.Get, "BinlogChain")]
[OutputType(typeof(BinlogSegment))]
public sealed class GetBinlogChainCommand : RepositoryCmdlet
{
    /// <summary>Every chain, not only the one shipped to last.</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    /// <summary>Only segments of this binlog file.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.BinlogFileCompleter))]
    public string? File { get; set; }

    protected override void EndProcessing()
    {
        using var repository = OpenRepository();
        var chain = Run(ct => BinlogChain.LoadAsync(repository.Context, ct));
        foreach (var segment in (All ? chain.Segments : chain.Current).Where(s => File is null || s.File == File))
        {
            WriteObject(segment);
        }
    }
}
