using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Commands;

/// <summary>Proves the shipped binlog is continuous from a full backup's coordinates to the newest segment.</summary>
[Cmdlet(VerbsDiagnostic.Test, "BinlogChain")]
[OutputType(typeof(BinlogChainReport))]
public sealed class TestBinlogChainCommand : RepositoryCmdlet
{
    /// <summary>The full backup point-in-time recovery would start from.</summary>
    [Parameter(ValueFromPipeline = true, Position = 0)]
    public BackupInfo? From { get; set; }

    private BinlogChain? _chain;
    private IReadOnlyList<BackupInfo>? _bases;
    private OpenedRepository? _repository;

    protected override void ProcessRecord()
    {
        _repository ??= OpenRepository();
        if (_chain is null || _bases is null)
        {
            (_chain, _, _bases) = Run(ct => RecoveryWindow.LoadAsync(_repository.Context, ct));
        }

        var report = BinlogChainReport.Test(_chain, _repository.Context, From, _bases);
        foreach (var gap in report.Breaks)
        {
            WriteVerbose($"Break after {gap.After}: {gap.Reason} (next: {gap.Next}).");
        }

        WriteObject(report);
    }

    protected override void EndProcessing() => _repository?.Dispose();
}
