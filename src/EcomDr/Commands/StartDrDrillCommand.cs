using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Operations.Drills;
using EcomDr.Engine.Operations.Telemetry;

namespace EcomDr.Commands;

/// <summary>Runs a DR drill: a real recovery into a scratch target, timed and checked; returns and stores its report.</summary>
[Cmdlet(VerbsLifecycle.Start, "DrDrill", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = SandboxSet)]
[OutputType(typeof(DrillReport))]
public sealed class StartDrDrillCommand : RepositoryCmdlet, IJobCmdlet
{
    /// <summary>Push this job's metrics to this Pushgateway (before ECOMDR_PUSHGATEWAY_URL and the configuration's telemetry.pushgatewayUrl).</summary>
    [Parameter]
    [ValidatePattern("^https?://")]
    public string? PushgatewayUrl { get; set; }

    private const string SandboxSet = "Sandbox";
    private const string TargetSet = "Target";

    /// <summary>Pitr (monthly: to a point some minutes back, from the primary store) or TotalDisaster (quarterly: everything shipped, from the offsite store).</summary>
    /// <remarks>A string, not the engine's enum: an enum-typed field would load the engine before the module's load context is set up.</remarks>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateSet("Pitr", "TotalDisaster")]
    public string Kind { get; set; } = "";

    /// <summary>Restore into a throwaway local MariaDB started from this machine's binaries, removed afterwards.</summary>
    [Parameter(Mandatory = true, ParameterSetName = SandboxSet)]
    public SwitchParameter Sandbox { get; set; }

    /// <summary>Keep the sandbox server and its folder after the drill.</summary>
    [Parameter(ParameterSetName = SandboxSet)]
    public SwitchParameter Keep { get; set; }

    /// <summary>A scratch server to restore into (never the live one: the target schemas must not exist there).</summary>
    [Parameter(Mandatory = true, ParameterSetName = TargetSet)]
    [ValidateNotNullOrEmpty]
    public string? TargetServer { get; set; }

    [Parameter(ParameterSetName = TargetSet)]
    [ValidateRange(1, 65535)]
    public int? TargetPort { get; set; }

    [Parameter(ParameterSetName = TargetSet)]
    [Credential]
    public PSCredential? TargetCredential { get; set; }

    [Parameter(ParameterSetName = TargetSet)]
    [ValidateSet("None", "Preferred", "Required", "VerifyCA", "VerifyFull")]
    public string? TargetSslMode { get; set; }

    /// <summary>Restore the backup's schema under this name on the target.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TargetSchema { get; set; }

    /// <summary>The simulated disaster time. Default: now for TotalDisaster, now minus drill.pitrOffsetMinutes for Pitr.</summary>
    [Parameter]
    public DateTimeOffset? ReferencePoint { get; set; }

    /// <summary>
    /// Drill from this volume snapshot (its backup id, or the BackupInfo) instead of a full backup: with
    /// -Sandbox a copy of a directory snapshot is started here; with -TargetServer, the server was started
    /// on the restored volume.
    /// </summary>
    [Parameter]
    [ValidateNotNull]
    public object? FromSnapshot { get; set; }

    /// <summary>Do not store the report in the repository.</summary>
    [Parameter]
    public SwitchParameter NoSave { get; set; }

    protected override void ProcessRecord()
    {
        var kind = Enum.Parse<DrillKind>(Kind, ignoreCase: true);
        Store = DrillRunner.StoreFor(kind, MyInvocation.BoundParameters.ContainsKey(nameof(Store)) ? Store : null);

        var config = LoadConfig();
        var environment = Run(() => config.GetEnvironment(Environment));
        var target = Sandbox ? null : Run(() => MySqlEndpointParameters.Resolve(this, work => Run(work), config, environment, TargetServer, TargetPort, TargetCredential, TargetSslMode));
        using var repository = OpenRepository(forWriting: !NoSave);
        var where = Sandbox ? "a sandbox MariaDB" : target!.Display;
        if (!ShouldProcess(where, $"{Kind} drill from the {repository.Context.Store.Name} store of '{repository.Context.Environment}'"))
        {
            return;
        }

        var snapshot = (FromSnapshot is PSObject wrapped ? wrapped.BaseObject : FromSnapshot) switch
        {
            null => null,
            Engine.Pipeline.Repository.BackupInfo b => b.Id,
            var other => other.ToString(),
        };
        if (snapshot is not null && TargetSchema is not null)
        {
            Fail(Engine.Errors.ErrorIds.InvalidArgument, Engine.Errors.FailureKind.InvalidArgument,
                "-FromSnapshot drills the whole server as the snapshot holds it: -TargetSchema does not apply. Nothing was changed.", "TargetSchema");
        }

        var progress = new LatestProgress<string>();
        var activity = $"{Kind} drill";
        var report = RunJob(repository, "drill", kind.ToString(), ct => DrillRunner.RunAsync(repository.Context, repository.Environment,
            new DrillOptions(kind, target, Sandbox, Keep, TargetSchema, ReferencePoint, snapshot), progress, ct), r => new JobResult(r.Passed, Figures: DrillFigures(r)), () =>
        {
            if (progress.TryGet(out var step))
            {
                WriteProgress(new ProgressRecord(10, activity, step));
            }
        });
        CompleteProgress(10, activity);
        foreach (var check in report.Checks)
        {
            WriteVerbose($"{(check.Passed ? "PASS" : "FAIL")} {check.Name}: {check.Evidence}");
        }

        if (!NoSave)
        {
            var stored = Run(ct => DrillReportStore.SaveAsync(repository.Context, report, ct));
            WriteVerbose($"Report stored as {stored.Kind} {stored.Id} in {stored.Store}.");
        }

        WriteObject(report);
    }

    private static Dictionary<string, double> DrillFigures(DrillReport r)
    {
        var figures = new Dictionary<string, double>
        {
            [MetricNames.DrillPassed] = r.Passed ? 1 : 0,
            [MetricNames.DrillRto] = r.RtoSeconds,
            [MetricNames.DrillRtoObjective] = r.RtoObjectiveSeconds,
            [MetricNames.DrillRpoObjective] = r.RpoObjectiveSeconds,
        };
        if (r.RpoSeconds is { } rpo)
        {
            figures[MetricNames.DrillRpo] = rpo;
        }

        return figures;
    }
}
