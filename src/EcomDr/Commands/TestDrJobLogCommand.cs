using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Operations.Telemetry;

namespace EcomDr.Commands;

/// <summary>Verifies the signed job log: every line's signature and its hash chain to the line before.</summary>
[Cmdlet(VerbsDiagnostic.Test, "DrJobLog", DefaultParameterSetName = FileSet)]
[OutputType(typeof(JobLogReport))]
public sealed class TestDrJobLogCommand : RepositoryCmdlet
{
    private const string FileSet = "File";
    private const string LokiSet = "Loki";

    /// <summary>The job log. Default: the environment's telemetry.jobLog.</summary>
    [Parameter(Position = 0, ParameterSetName = FileSet)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Verify the lines Loki holds (telemetry.loki), as read back through its query API, instead of the file.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LokiSet)]
    public SwitchParameter FromLoki { get; set; }

    /// <summary>With -FromLoki: the lines from this time on. Default: 7 days ago.</summary>
    [Parameter(ParameterSetName = LokiSet)]
    public DateTime? Since { get; set; }

    /// <summary>With -FromLoki: the lines before this time. Default: now.</summary>
    [Parameter(ParameterSetName = LokiSet)]
    public DateTime? Until { get; set; }

    /// <summary>With -FromLoki: the host whose log to read (its host label). Default: this machine.</summary>
    [Parameter(ParameterSetName = LokiSet)]
    [ValidateNotNullOrEmpty]
    public string? HostName { get; set; }

    protected override void ProcessRecord()
    {
        var config = LoadConfig();
        var environment = Run(() => config.GetEnvironment(Environment));
        using var repository = OpenRepository();
        JobLogReport report;
        if (FromLoki)
        {
            if (environment.Telemetry?.Loki is not { } loki)
            {
                Fail(Engine.Errors.ErrorIds.JobLogNotConfigured, Engine.Errors.FailureKind.ObjectNotFound, "No Loki: set telemetry.loki in the environment.", "FromLoki");
                return;
            }

            var until = Until is { } u ? new DateTimeOffset(u.ToUniversalTime()) : DateTimeOffset.UtcNow;
            var since = Since is { } s ? new DateTimeOffset(s.ToUniversalTime()) : until.AddDays(-7);
            if (since >= until)
            {
                Fail(Engine.Errors.ErrorIds.InvalidArgument, Engine.Errors.FailureKind.InvalidArgument, $"-Since ({since:u}) must be before -Until ({until:u}).", "Since");
            }

            var host = HostName ?? System.Environment.MachineName;
            WriteVerbose($"Reading {JobLogLoki.Selector(host, environment.Name)} from {loki.Url} between {since:u} and {until:u}.");
            var lines = Run(ct => JobLogLoki.ReadAsync(loki, host, environment.Name, since, until, ct));
            // Loki's retention and -Since drop the oldest lines: the chain is checked from the first line read.
            report = JobLog.Verify($"{loki.Url} {JobLogLoki.Selector(host, environment.Name)}", lines, repository.Context.Trust, fromStart: false);
        }
        else
        {
            var path = Path is not null ? GetUnresolvedProviderPathFromPSPath(Path) : TelemetryRecorder.JobLogPath(environment.Telemetry);
            if (path is null)
            {
                Fail(Engine.Errors.ErrorIds.JobLogNotConfigured, Engine.Errors.FailureKind.ObjectNotFound, "No job log: give -Path, or set telemetry.jobLog in the environment.", "Path");
            }

            report = Run(ct => JobLog.VerifyAsync(path, repository.Context.Trust, ct));
        }

        foreach (var problem in report.Problems)
        {
            WriteVerbose($"line {problem.Line}: {problem.Problem}");
        }

        WriteObject(report);
    }
}
