using System.Diagnostics;
using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Load;
using EcomDr.Engine.Sources.MySql.Pitr;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Validation;

namespace EcomDr.Engine.Operations.Drills;

/// <summary>Where a drill restores and how far back it aims.</summary>
public sealed record DrillOptions(
    DrillKind Kind,
    MySqlEndpoint? Target = null,
    bool Sandbox = false,
    bool Keep = false,
    string? TargetSchema = null,
    DateTimeOffset? ReferencePoint = null,
    string? FromSnapshot = null);

/// <summary>
/// Runs a drill the way a real recovery runs, and measures it. RTO: wall time from the drill's start
/// to a restore that is validated and answers its probes, phase by phase. RPO: the reference point (the
/// simulated disaster: now for a total disaster, the target time for a PITR drill) minus the commit time
/// of the last transaction actually restored. A failing step is a failed checklist line in the report,
/// not an exception: the report says what broke, and later steps that depend on it do not run.
/// </summary>
public static class DrillRunner
{
    /// <summary>
    /// The store a drill reads from when none is asked for: a total disaster means the primary site
    /// is gone, so only the offsite copy may be used; any other drill reads the primary.
    /// </summary>
    public static string StoreFor(DrillKind kind, string? requested) =>
        requested ?? (kind == DrillKind.TotalDisaster ? "offsite" : "primary");

    public static async Task<DrillReport> RunAsync(RepositoryContext context, EnvironmentConfig environment, DrillOptions options,
        IProgress<string>? progress, CancellationToken ct)
    {
        if (!options.Sandbox && options.Target is null)
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, "A drill needs a target: -TargetServer, or -Sandbox.", "Target");
        }

        if (options.FromSnapshot is not null)
        {
            return await SnapshotDrill.RunAsync(context, environment, options, progress, ct).ConfigureAwait(false);
        }

        var drill = environment.Drills;
        var heads = AlembicHeadsOf(drill);
        // The RTO model's rates, from the drills before this one (read before the clock starts: not part of the RTO).
        var rates = await PreviousRatesAsync(context, ct).ConfigureAwait(false);
        var clock = new DrillClock(options, drill);
        var reference = clock.Reference;
        var phases = clock.Phases;
        var checks = new List<DrillCheck>();

        PitrPlan? plan = null;
        PitrResult? result = null;
        SandboxServer? sandbox = null;
        var target = options.Sandbox ? "sandbox" : options.Target!.Display;
        double rto;
        try
        {
            progress?.Report("locating the full backup and the binlog chain");
            plan = await LocateAsync(context, options, reference, checks, ct).ConfigureAwait(false);
            clock.Phase("locate");
            if (plan is not null && await VerifyPresentAsync(context, plan.Segments.Select(s => s.Backup).Prepend(plan.Backup), checks, ct).ConfigureAwait(false))
            {
                clock.Phase("verify");
                progress?.Report("starting the target");
                MySqlEndpoint endpoint;
                if (options.Sandbox)
                {
                    sandbox = await SandboxServer.StartAsync(options.Keep, ct).ConfigureAwait(false);
                    endpoint = sandbox.Endpoint;
                    target = sandbox.Describe();
                }
                else
                {
                    endpoint = options.Target!;
                }

                clock.Phase("target");
                progress?.Report("restoring the full backup, then replaying the binlog");
                result = await RestoreAsync(context, plan, endpoint, phases, checks, progress, ct).ConfigureAwait(false);
                clock.Lap();
                if (result is not null)
                {
                    await ValidateAndProbeAsync(plan.Restore.SchemaMap.Values.ToList(), endpoint, drill, heads, checks, clock, progress, ct).ConfigureAwait(false);
                }
            }
            else if (plan is not null)
            {
                clock.Phase("verify");
            }

            rto = clock.TotalSeconds;
        }
        finally
        {
            if (sandbox is not null)
            {
                await sandbox.DisposeAsync().ConfigureAwait(false);
            }
        }

        var replayBytes = plan?.Segments.Sum(s => s.Backup.Size);
        return Finish(context, environment, options, clock.Started, reference, rto, target, result, plan?.Backup, plan?.Segments.Count ?? 0, phases, checks, plan?.Backup.Size, replayBytes,
            plan is not null && rates is not null ? Math.Round(rates.Predict(plan.Backup.Size, replayBytes!.Value).Total, 1) : null);
    }

    /// <summary>The RTO and RPO lines, judged against the objectives, and the report.</summary>
    internal static DrillReport Finish(RepositoryContext context, EnvironmentConfig environment, DrillOptions options, DateTimeOffset started, DateTimeOffset reference, double rto,
        string target, PitrResult? result, BackupInfo? baseBackup, int segments, List<DrillPhase> phases, List<DrillCheck> checks, long? fullRestoreBytes, long? replayBytes,
        double? predicted)
    {
        // What was restored: the last replayed commit, or the base's own point when nothing was replayed.
        var lastCommit = result?.LastCommitTime ?? (result is not null ? baseBackup!.Created : null);
        double? rpo = lastCommit is { } last ? Math.Max(0, Math.Round((reference - last).TotalSeconds, 1)) : null;
        var rtoObjective = environment.Objectives.RtoMinutes * 60.0;
        var rpoObjective = environment.Objectives.RpoMinutes * 60.0;
        var probed = environment.Drills.Probes.Count > 0;
        checks.Add(new DrillCheck("RTO within objective", result is not null && rto <= rtoObjective,
            result is null ? $"no validated restore ({rto:0.0} s spent)" : $"{rto:0.0} s from the drill's start to a validated{(probed ? ", probed" : "")} restore; objective {rtoObjective:0} s"));
        checks.Add(new DrillCheck("RPO within objective", rpo is { } r && r <= rpoObjective,
            rpo is { } gap ? $"{gap:0.0} s between the reference point {reference:u} and the last restored commit {lastCommit:u}; objective {rpoObjective:0} s" : "nothing restored"));
        return new DrillReport($"drill-{started:yyyyMMdd'T'HHmmss'Z'}-{Guid.NewGuid().ToString("N")[..6]}", options.Kind, environment.Name, context.Store.Name, target,
            started, DateTimeOffset.UtcNow, result is not null && checks.All(c => c.Passed), Math.Round(rto, 1), rtoObjective, rpo, rpoObjective, reference,
            baseBackup?.Id ?? "", segments, result is null ? "" : $"{result.LastPosition} {result.LastGtid}".Trim(), result?.LastCommitTime ?? lastCommit,
            phases, checks, Environment.MachineName, typeof(DrillRunner).Assembly.GetName().Version?.ToString(3) ?? "",
            fullRestoreBytes, replayBytes, predicted);
    }

    internal static IReadOnlyList<string>? AlembicHeadsOf(DrillConfig drill) =>
        drill.AlembicHead is { } head ? new[] { head } : drill.MigrationsPath is { } migrations ? AlembicHeads.FromFolder(migrations) : null;

    internal static async Task<RtoRates?> PreviousRatesAsync(RepositoryContext context, CancellationToken ct)
    {
        try
        {
            return RtoModel.LatestRates(await DrillReportStore.ListAsync(context, ct).ConfigureAwait(false));
        }
        catch (EcomDrException)
        {
            return null; // a store that cannot list its reports gives no prediction; the drill itself still runs
        }
    }

    /// <summary>The backup and segments the recovery will use; a missing backup or a broken chain is a failed line.</summary>
    private static async Task<PitrPlan?> LocateAsync(RepositoryContext context, DrillOptions options, DateTimeOffset reference, List<DrillCheck> checks, CancellationToken ct)
    {
        try
        {
            // Up to the reference point, or as close as was shipped: the RPO line judges the gap (a source
            // quiet since its last shipped event would otherwise fail the drill for losing nothing).
            var plan = await PitrRestorer.PlanAsync(context, new PitrOptions(TargetTime: reference, AllowPartial: true,
                Restore: new RestoreOptions(TargetSchema: options.TargetSchema)), ct).ConfigureAwait(false);
            checks.Add(new DrillCheck("Full backup located", true,
                $"{plan.Backup.Id} in {context.Store.Name} ({plan.Backup.Coordinates}), finished {plan.Backup.Completed:u}; manifest signature verified"));
            var last = plan.Segments.Count > 0 ? plan.Segments[^1] : null;
            checks.Add(new DrillCheck("Binlog chain continuous", true,
                $"{plan.Segments.Count} segment(s) from {plan.BinlogFile} to {last?.File}:{last?.EndOffset} ({last?.LastGtid}), each manifest signature verified, no missing byte; newest event {plan.NewestShippedEvent:u}"));
            return plan;
        }
        catch (EcomDrException ex) when (ex.ErrorId is ErrorIds.BackupNotFound or ErrorIds.ManifestInvalid)
        {
            checks.Add(new DrillCheck("Full backup located", false, ex.Message));
        }
        catch (EcomDrException ex) when (ex.ErrorId is ErrorIds.BinlogGap or ErrorIds.TargetNotReachable or ErrorIds.ArtifactMissing)
        {
            checks.Add(new DrillCheck("Binlog chain continuous", false, ex.Message));
        }

        return null;
    }

    /// <summary>Every artifact the recovery will read is in the store at its recorded size (before any target is touched).</summary>
    internal static async Task<bool> VerifyPresentAsync(RepositoryContext context, IEnumerable<BackupInfo> backups, List<DrillCheck> checks, CancellationToken ct)
    {
        var problems = new List<string>();
        long bytes = 0;
        var count = 0;
        foreach (var backup in backups)
        {
            foreach (var artifact in backup.Manifest!.Artifacts)
            {
                count++;
                var stored = await context.Store.StatAsync(backup.Prefix + artifact.Path, ct).ConfigureAwait(false);
                if (stored is null)
                {
                    problems.Add($"{backup.Id}/{artifact.Name} is missing");
                }
                else if (stored.Size != artifact.StoredSize)
                {
                    problems.Add($"{backup.Id}/{artifact.Name} holds {stored.Size} bytes, its manifest {artifact.StoredSize}");
                }

                bytes += artifact.StoredSize;
            }
        }

        checks.Add(new DrillCheck("Artifacts present", problems.Count == 0, problems.Count == 0
            ? $"{count} artifact(s), {bytes / 1048576.0:0.0} MiB, each at its recorded size in {context.Store.Location}"
            : string.Join("; ", problems)));
        return problems.Count == 0;
    }

    /// <summary>The recovery itself, with the restored backup compared with its own recorded statistics before replay.</summary>
    private static async Task<PitrResult?> RestoreAsync(RepositoryContext context, PitrPlan plan, MySqlEndpoint endpoint, List<DrillPhase> phases, List<DrillCheck> checks,
        IProgress<string>? progress, CancellationToken ct)
    {
        double backupCheckSeconds = 0;
        var clock = Stopwatch.StartNew();
        try
        {
            var result = await PitrRestorer.RunAsync(context, plan, endpoint, null, null, ct, async token =>
            {
                var checking = Stopwatch.StartNew();
                progress?.Report("checking the restored backup against its recorded statistics");
                foreach (var (source, schema) in plan.Restore.SchemaMap)
                {
                    var report = await RestoreValidator.RunAsync(endpoint, schema, new ValidationReference(Schema: source, Backup: plan.Backup), null, null, token).ConfigureAwait(false);
                    // The restore record says "running" here, by design: only the data is judged.
                    var data = report.Checks.Where(c => c.Name != "Restore finished").ToList();
                    checks.Add(new DrillCheck($"Full backup restores exactly ({schema})", data.All(c => c.Passed) && report.Mismatches.Count == 0,
                        string.Join("; ", data.Select(c => $"{c.Name}: {c.Evidence}"))));
                }

                backupCheckSeconds = checking.Elapsed.TotalSeconds;
                progress?.Report("replaying the binlog");
            }).ConfigureAwait(false);
            var artifacts = plan.Backup.ArtifactCount + plan.Segments.Sum(s => s.Backup.ArtifactCount);
            checks.Add(new DrillCheck("Artifact integrity", true,
                $"{artifacts} artifact(s): every frame authenticated and the SHA-256 of stored and plain bytes matched as they streamed (AES-256-GCM, ECDSA-signed manifests)"));
            checks.Add(new DrillCheck("Replay", true, $"{result.Transactions} transaction(s), {result.Events} event(s) to {result.LastPosition} ({result.LastGtid}); stopped: {result.StoppedBecause}"));
            phases.Add(new DrillPhase("download + full restore", Math.Round(result.FullRestorePhase.TotalSeconds, 2)));
            phases.Add(new DrillPhase("check restored backup", Math.Round(backupCheckSeconds, 2)));
            phases.Add(new DrillPhase("download + replay", Math.Round(result.ReplayPhase.TotalSeconds, 2)));
            return result;
        }
        catch (EcomDrException ex) when (ex.ErrorId is ErrorIds.ArtifactHashMismatch or ErrorIds.ArtifactCorrupt or ErrorIds.ArtifactMissing or ErrorIds.WrongKey)
        {
            checks.Add(new DrillCheck("Artifact integrity", false, ex.Message));
        }
        catch (InvalidDataException ex)
        {
            checks.Add(new DrillCheck("Artifact integrity", false, ex.Message));
        }
        catch (EcomDrException ex)
        {
            checks.Add(new DrillCheck("Restore and replay", false, $"{ex.ErrorId}: {ex.Message}"));
        }

        phases.Add(new DrillPhase("restore (failed)", Math.Round(clock.Elapsed.TotalSeconds, 2)));
        return null;
    }

    /// <summary>The validation of a restored target, then the app's probes against it, each timed as its own phase.</summary>
    internal static async Task ValidateAndProbeAsync(IReadOnlyList<string> schemas, MySqlEndpoint endpoint, DrillConfig drill, IReadOnlyList<string>? heads,
        List<DrillCheck> checks, DrillClock clock, IProgress<string>? progress, CancellationToken ct)
    {
        progress?.Report("validating");
        await ValidateAsync(schemas, endpoint, heads, checks, ct).ConfigureAwait(false);
        clock.Phase("validate");
        if (drill.Probes.Count > 0 && schemas.Count > 0)
        {
            progress?.Report("probing the app");
            checks.AddRange(await HttpProbes.RunAsync(drill.Probes, endpoint.Server, endpoint.Port, schemas[0], ct).ConfigureAwait(false));
            clock.Phase("probes");
        }
    }

    internal static async Task ValidateAsync(IEnumerable<string> schemas, MySqlEndpoint endpoint, IReadOnlyList<string>? heads, List<DrillCheck> checks, CancellationToken ct)
    {
        foreach (var schema in schemas.Distinct())
        {
            var report = await RestoreValidator.RunAsync(endpoint, schema, new ValidationReference(), heads, null, ct).ConfigureAwait(false);
            foreach (var check in report.Checks)
            {
                checks.Add(new DrillCheck($"{check.Name} ({schema})", check.Passed, check.Evidence));
            }
        }
    }
}
