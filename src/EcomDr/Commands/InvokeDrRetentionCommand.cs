using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Operations.Retention;

namespace EcomDr.Commands;

/// <summary>
/// Applies the environment's retention policy to one store: plans first (every backup, kept or
/// expired, with its reasons), then removes what expired, manifest first. -WhatIf shows the plan and
/// removes nothing; the store's retention lock keeps two runs apart.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "DrRetention", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(RetentionDecision), typeof(RetentionSummary))]
public sealed class InvokeDrRetentionCommand : RepositoryCmdlet, IJobCmdlet
{
    /// <summary>Only act on (and show) these kinds; the plan still spans every kind, since binlog segments follow the full backups.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.BackupKindCompleter))]
    public string[]? Kind { get; set; }

    /// <summary>Remove without prompting (schedules).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PushgatewayUrl { get; set; }

    protected override void EndProcessing()
    {
        using var repository = OpenRepository();
        Engine.Operations.Completion.CompletionCache.Shared.Invalidate();
        var context = repository.Context;
        var snapshots = repository.Environment.MySql?.VolumeSnapshot is { } configured ? Run(configured.CreateProvider) : null;
        var run = Run(ct => RetentionRun.BeginAsync(context, repository.Environment.Retentions, ct, snapshots));
        try
        {
            var shown = run.Plan.Decisions.Where(d => Kind is null || Kind.Contains(d.Kind, StringComparer.OrdinalIgnoreCase)).ToList();
            WriteObject(shown, enumerateCollection: true);

            // Asked here, on the pipeline thread; removed below, as one job with its metrics.
            var approved = shown.Where(d => !d.Keep)
                .Where(d => ShouldProcessUnlessForced(Force, $"{d.Kind} backup {d.Id} ({FormatBytes(d.Size)}) in {context.Store.Location}", $"Expire ({d.Reason})"))
                .ToList();
            IReadOnlyList<(RetentionDecision Decision, string Why)> inUse = [];
            if (!IsWhatIf)
            {
                // Every real run is recorded, with nothing to remove too: "retention has not run" is an alert.
                _ = RunJob(repository, "retention", "all", async ct =>
                {
                    inUse = await run.RemoveAllAsync(approved, ct).ConfigureAwait(false);
                    return await run.FiguresAsync(ct).ConfigureAwait(false);
                }, f => new JobResult(true, Figures: f));
                foreach (var (kind, bytes) in run.KeptBytesByKind())
                {
                    Record(repository, new Engine.Operations.Telemetry.JobOutcome(context.Environment, "inventory", kind, context.Store.Name, run.Plan.Now, DateTimeOffset.UtcNow, true,
                        Figures: new Dictionary<string, double> { [Engine.Operations.Telemetry.MetricNames.StoreBytes] = bytes }));
                }
            }

            if (run.IndexProblem is { } problem)
            {
                WriteWarning($"{problem}. The next plan reads every manifest.");
            }

            foreach (var (decision, why) in inUse)
            {
                WriteWarning($"{decision.Kind} backup {decision.Id} was kept: {why}. The next run removes it.");
            }

            var summary = run.Summary(IsWhatIf);
            WriteVerbose($"Retention of '{summary.Environment}' in {summary.Store}: {summary.Kept} kept, {summary.Expired} expired, {summary.Removed} removed, {FormatBytes(summary.BytesFreed)} freed.");
            WriteObject(summary);
        }
        finally
        {
            Run(async _ =>
            {
                await run.DisposeAsync().ConfigureAwait(false);
                return true;
            });
        }
    }
}
