using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Operations.Drills;
using EcomDr.Engine.Operations.Telemetry;

namespace EcomDr.Commands;

/// <summary>
/// Predicts the RTO of a recovery to the newest point now: the latest full backup and the binlog
/// shipped since, at the rates the latest passing drill measured, against the objective.
/// </summary>
[Cmdlet(VerbsCommon.Get, "DrRtoEstimate")]
[OutputType(typeof(RtoEstimate))]
public sealed class GetDrRtoEstimateCommand : RepositoryCmdlet, IJobCmdlet
{
    [Parameter]
    [ValidatePattern("^https?://")]
    public string? PushgatewayUrl { get; set; }

    protected override void EndProcessing()
    {
        using var repository = OpenRepository();
        var started = DateTimeOffset.UtcNow;
        var estimate = Run(ct => RtoModel.EstimateAsync(repository.Context, repository.Environment, ct));
        // Recorded for the alert that fires when the prediction passes 80 % of the objective.
        Record(repository, new JobOutcome(estimate.Environment, "rto-estimate", "mysql", estimate.Store, started, DateTimeOffset.UtcNow, true,
            Figures: new Dictionary<string, double>
            {
                [MetricNames.RtoPredicted] = estimate.PredictedSeconds,
                [MetricNames.RtoObjective] = estimate.ObjectiveSeconds,
            }));
        if (estimate.Share > 0.8)
        {
            WriteWarning($"The predicted RTO ({estimate.PredictedSeconds / 60:0.0} min) is {estimate.Share:P0} of the objective ({estimate.ObjectiveSeconds / 60:0} min).");
        }

        WriteObject(estimate);
    }
}
