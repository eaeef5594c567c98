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
        var run = Run(ct => RetentionRun.BeginAsync(context, repository.Environment.Retentions, ct));
        try
        {
            var shown = run.Plan.Decisions.Where(d => Kind is null || Kind.Contains(d.Kind, StringComparer.OrdinalIgnoreCase)).ToList();
            WriteObject(shown, enumerateCollection: true);

            // Asked here, on the pipeline thread; removed below, as one job with its metrics.
            var approved = shown.Where(d => !d.Keep)
                .Where(d => ShouldProcessUnlessForced(Force, $"{d.Kind} backup {d.Id} ({FormatBytes(d.Size)}) in {context.Store.Location}", $"Expire ({d.Reason})"))
                .ToList();
            var inUse = new List<(RetentionDecision Decision, string Reader)>();
            if (!IsWhatIf)
            {
                // Every real run is recorded, with nothing to remove too: "retention has not run" is an alert.
                RunJob(repository, "retention", "all", async ct =>
                {
                    foreach (var decision in approved)
                    {
                        if (await run.RemoveAsync(decision, ct).ConfigureAwait(false) is { } reader)
                        {
                            inUse.Add((decision, reader));
                        }
                    }

                    return await Inventory.WindowAsync(context, ct).ConfigureAwait(false);
                }, window => new JobResult(true, Figures: Figures(run, window, repository.Environment.Retentions.ForStore(context.Store.Name))));
                foreach (var kind in run.Plan.Kept.Where(d => d.Backup.Status == Engine.Pipeline.Repository.BackupStatus.Complete).GroupBy(d => d.Kind))
                {
                    Record(repository, new Engine.Operations.Telemetry.JobOutcome(context.Environment, "inventory", kind.Key, context.Store.Name, run.Plan.Now, DateTimeOffset.UtcNow, true,
                        Figures: new Dictionary<string, double> { [Engine.Operations.Telemetry.MetricNames.StoreBytes] = kind.Sum(d => d.Size) }));
                }
            }

            foreach (var (decision, reader) in inUse)
            {
                WriteWarning($"{decision.Kind} backup {decision.Id} was kept: it is being read by {reader}. The next run removes it.");
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

    private static Dictionary<string, double> Figures(RetentionRun run, RecoverableWindow? window, Engine.Config.RetentionConfig policy)
    {
        var figures = new Dictionary<string, double>
        {
            [Engine.Operations.Telemetry.MetricNames.RetentionBytesFreed] = run.BytesFreed,
            [Engine.Operations.Telemetry.MetricNames.RetentionExpired] = run.Removed,
        };
        if (window is { Oldest: { } oldest, Newest: { } newest })
        {
            figures[Engine.Operations.Telemetry.MetricNames.WindowOldest] = oldest.ToUnixTimeSeconds();
            figures[Engine.Operations.Telemetry.MetricNames.WindowNewest] = newest.ToUnixTimeSeconds();
            figures[Engine.Operations.Telemetry.MetricNames.WindowObjective] =
                TimeSpan.FromDays(policy.Kinds.TryGetValue(Engine.Pipeline.Repository.BackupKinds.MySqlBinlog, out var binlog) ? binlog.KeepDays : 7).TotalSeconds;
        }

        return figures;
    }
}
