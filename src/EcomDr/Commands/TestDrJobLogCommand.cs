using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Operations.Telemetry;

namespace EcomDr.Commands;

/// <summary>Verifies the signed job log: every line's signature and its hash chain to the line before.</summary>
[Cmdlet(VerbsDiagnostic.Test, "DrJobLog")]
[OutputType(typeof(JobLogReport))]
public sealed class TestDrJobLogCommand : RepositoryCmdlet
{
    /// <summary>The job log. Default: the environment's telemetry.jobLog.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void ProcessRecord()
    {
        var config = LoadConfig();
        var environment = Run(() => config.GetEnvironment(Environment));
        var path = Path is not null ? GetUnresolvedProviderPathFromPSPath(Path) : TelemetryRecorder.JobLogPath(environment.Telemetry);
        if (path is null)
        {
            Fail(Engine.Errors.ErrorIds.JobLogNotConfigured, Engine.Errors.FailureKind.ObjectNotFound, "No job log: give -Path, or set telemetry.jobLog in the environment.", "Path");
        }

        using var repository = OpenRepository();
        var report = Run(ct => JobLog.VerifyAsync(path, repository.Context.Trust, ct));
        foreach (var problem in report.Problems)
        {
            WriteVerbose($"line {problem.Line}: {problem.Problem}");
        }

        WriteObject(report);
    }
}
