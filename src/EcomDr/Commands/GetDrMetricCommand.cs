using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Operations.Telemetry;

namespace EcomDr.Commands;

/// <summary>The current values of EcomDr's metrics, from the textfile collector file or the Pushgateway the jobs write to.</summary>
[Cmdlet(VerbsCommon.Get, "DrMetric")]
[OutputType(typeof(MetricValue))]
public sealed class GetDrMetricCommand : EcomDrCmdlet
{
    /// <summary>Metric names; * and ? wildcards.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    /// <summary>Only this job: full-backup, binlog-shipping, offsite-copy, integrity-test, drill, file-backup.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Job { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Config { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.EnvironmentCompleter))]
    public string? Environment { get; set; }

    protected override void ProcessRecord()
    {
        var config = Run(() => ConnectionParameters.LoadConfig(Config is null ? null : GetUnresolvedProviderPathFromPSPath(Config), Environment));
        var environment = Run(() => config.GetEnvironment(Environment));
        var patterns = Name?.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (var metric in Run(ct => MetricReader.ReadAsync(environment.Telemetry, ct)))
        {
            if ((patterns is null || patterns.Any(p => p.IsMatch(metric.Name))) && (Job is null || metric.Job.Equals(Job, StringComparison.OrdinalIgnoreCase)))
            {
                WriteObject(metric);
            }
        }
    }
}
