using System.Diagnostics;
using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Pitr;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Snapshots;

namespace EcomDr.Engine.Operations.Drills;

/// <summary>
/// A drill that starts from a volume snapshot (Start-DrDrill -FromSnapshot), timed like a real
/// recovery from one: locate the snapshot and the binlog after it, bring up a server on the snapshot
/// (-Sandbox: a copy of a directory snapshot, started here; -TargetServer: a server already started on
/// the restored volume), check its GTID state, replay to the reference point, validate, probe. Its
/// report carries no full-restore size, so the RTO model's rates stay those of logical restores.
/// </summary>
internal static class SnapshotDrill
{
    public static async Task<DrillReport> RunAsync(RepositoryContext context, EnvironmentConfig environment, DrillOptions options, IProgress<string>? progress, CancellationToken ct)
    {
        var drill = environment.Drills;
        var heads = DrillRunner.AlembicHeadsOf(drill);
        var clock = new DrillClock(options, drill);
        var reference = clock.Reference;
        var phases = clock.Phases;
        var checks = new List<DrillCheck>();

        SnapshotPitrPlan? plan = null;
        PitrResult? result = null;
        SandboxServer? sandbox = null;
        var target = options.Sandbox ? "sandbox" : options.Target!.Display;
        double rto;
        try
        {
            progress?.Report("locating the volume snapshot and the binlog chain");
            plan = await LocateAsync(context, options, reference, checks, ct).ConfigureAwait(false);
            clock.Phase("locate");
            if (plan is not null && await DrillRunner.VerifyPresentAsync(context, plan.Segments.Select(s => s.Backup), checks, ct).ConfigureAwait(false))
            {
                clock.Phase("verify");
                MySqlEndpoint? endpoint = options.Target;
                if (options.Sandbox)
                {
                    progress?.Report("copying the snapshot and starting a server on it");
                    sandbox = await StartOnSnapshotAsync(environment, plan.Snapshot, options.Keep, checks, ct).ConfigureAwait(false);
                    endpoint = sandbox?.Endpoint;
                    target = sandbox?.Describe() ?? target;
                }

                clock.Phase("snapshot + server start");
                if (endpoint is not null)
                {
                    progress?.Report("checking the server's GTID state, then replaying the binlog");
                    result = await ReplayAsync(context, plan, endpoint, phases, checks, ct).ConfigureAwait(false);
                    clock.Lap();
                    if (result is not null)
                    {
                        await DrillRunner.ValidateAndProbeAsync(plan.Schemas, endpoint, drill, heads, checks, clock, progress, ct).ConfigureAwait(false);
                    }
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

        return DrillRunner.Finish(context, environment, options, clock.Started, reference, rto, target, result, plan?.Snapshot, plan?.Segments.Count ?? 0, phases, checks, null,
            plan?.Segments.Sum(s => s.Backup.Size), null);
    }

    private static async Task<SnapshotPitrPlan?> LocateAsync(RepositoryContext context, DrillOptions options, DateTimeOffset reference, List<DrillCheck> checks, CancellationToken ct)
    {
        try
        {
            var plan = await SnapshotPitr.PlanAsync(context, options.FromSnapshot!, new PitrOptions(TargetTime: reference, AllowPartial: true), ct).ConfigureAwait(false);
            var (primary, copies) = SnapshotRecord.Of(plan.Snapshot);
            checks.Add(new DrillCheck("Volume snapshot located", true,
                $"{plan.Snapshot.Id} in {context.Store.Name} ({plan.Snapshot.Coordinates}), {primary.Provider} snapshot {string.Join(", ", primary.Ids)}" +
                $"{(primary.Region is { } r ? $" in {r}" : "")}{(copies.Count > 0 ? $", offsite copy {string.Join(", ", copies.SelectMany(c => c.Ids))} in {copies[0].Region}" : ", no offsite copy")}; manifest signature verified"));
            var last = plan.Segments.Count > 0 ? plan.Segments[^1] : null;
            checks.Add(new DrillCheck("Binlog chain continuous", true,
                $"{plan.Segments.Count} segment(s) from {plan.BinlogFile}:{plan.BinlogPosition} to {last?.File}:{last?.EndOffset} ({last?.LastGtid}), no missing byte; newest event {plan.NewestShippedEvent:u}"));
            return plan;
        }
        catch (EcomDrException ex) when (ex.ErrorId is ErrorIds.BackupNotFound or ErrorIds.ManifestInvalid or ErrorIds.InvalidArgument)
        {
            checks.Add(new DrillCheck("Volume snapshot located", false, ex.Message));
        }
        catch (EcomDrException ex) when (ex.ErrorId is ErrorIds.BinlogGap or ErrorIds.TargetNotReachable or ErrorIds.ArtifactMissing)
        {
            checks.Add(new DrillCheck("Binlog chain continuous", false, ex.Message));
        }

        return null;
    }

    /// <summary>A sandbox on a copy of a directory snapshot; the other providers' volumes are restored by the provider's tools (-TargetServer then).</summary>
    private static async Task<SandboxServer?> StartOnSnapshotAsync(EnvironmentConfig environment, BackupInfo snapshot, bool keep, List<DrillCheck> checks, CancellationToken ct)
    {
        var (primary, _) = SnapshotRecord.Of(snapshot);
        if (primary.Provider != "directory" || environment.MySql?.VolumeSnapshot?.Directory is not { } directory)
        {
            checks.Add(new DrillCheck("Server on the snapshot", false,
                $"-Sandbox copies a directory snapshot, and {snapshot.Id} is a {primary.Provider} snapshot (or no directory provider is configured): restore its volume with the provider's tools, start a server on it, and drill with -TargetServer."));
            return null;
        }

        var original = (string?)snapshot.Source["dataDirectory"] ?? "";
        try
        {
            var sandbox = await SandboxServer.StartAsync(async (data, _, token) =>
            {
                await new DirectorySnapshotProvider(directory).RestoreAsync(primary.Ids[0], original, data, token).ConfigureAwait(false);
                // The copy's binlog goes on under its own base name: the one its index file is named for.
                return Directory.EnumerateFiles(data, "*.index").Select(Path.GetFileNameWithoutExtension).FirstOrDefault(n => n is not null && !n.StartsWith("aria", StringComparison.Ordinal))
                    ?? "binlog";
            }, keep, ct).ConfigureAwait(false);
            checks.Add(new DrillCheck("Server on the snapshot", true, $"snapshot {primary.Ids[0]} copied and started as {sandbox.Describe()}; InnoDB crash recovery ran"));
            return sandbox;
        }
        catch (EcomDrException ex)
        {
            checks.Add(new DrillCheck("Server on the snapshot", false, $"{ex.ErrorId}: {ex.Message}"));
            return null;
        }
    }

    private static async Task<PitrResult?> ReplayAsync(RepositoryContext context, SnapshotPitrPlan plan, MySqlEndpoint endpoint, List<DrillPhase> phases, List<DrillCheck> checks,
        CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var result = await SnapshotPitr.RunAsync(context, plan, endpoint, null, ct).ConfigureAwait(false);
            checks.Add(new DrillCheck("GTID state of the snapshot", true, $"the server holds {(string?)plan.Snapshot.Source["gtidSet"]}, the snapshot's"));
            checks.Add(new DrillCheck("Replay", true, $"{result.Transactions} transaction(s), {result.Events} event(s) to {result.LastPosition} ({result.LastGtid}); stopped: {result.StoppedBecause}"));
            phases.Add(new DrillPhase("check state", Math.Round(result.FullRestorePhase.TotalSeconds, 2)));
            phases.Add(new DrillPhase("download + replay", Math.Round(result.ReplayPhase.TotalSeconds, 2)));
            return result;
        }
        catch (EcomDrException ex) when (ex.ErrorId == ErrorIds.SnapshotStateMismatch)
        {
            checks.Add(new DrillCheck("GTID state of the snapshot", false, ex.Message));
        }
        catch (EcomDrException ex)
        {
            checks.Add(new DrillCheck("Replay", false, $"{ex.ErrorId}: {ex.Message}"));
        }

        phases.Add(new DrillPhase("replay (failed)", Math.Round(clock.Elapsed.TotalSeconds, 2)));
        return null;
    }
}
