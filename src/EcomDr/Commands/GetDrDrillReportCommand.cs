using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Operations.Drills;

namespace EcomDr.Commands;

/// <summary>Lists the drill reports stored in the repository, oldest first: the RTO/RPO history.</summary>
[Cmdlet(VerbsCommon.Get, "DrDrillReport")]
[OutputType(typeof(DrillReport))]
public sealed class GetDrDrillReportCommand : RepositoryCmdlet
{
    /// <summary>Only drills of this kind.</summary>
    [Parameter(Position = 0)]
    [ValidateSet("Pitr", "TotalDisaster")]
    public string? Kind { get; set; }

    /// <summary>Only the newest this many.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Last { get; set; }

    protected override void ProcessRecord()
    {
        using var repository = OpenRepository();
        var reports = Run(ct => DrillReportStore.ListAsync(repository.Context, ct)).Where(r => Kind is null || r.Kind.ToString().Equals(Kind, StringComparison.OrdinalIgnoreCase)).ToList();
        foreach (var report in Last is { } n ? reports.Skip(Math.Max(0, reports.Count - n)) : reports)
        {
            WriteObject(report);
        }
    }
}
