using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Operations.Approvals;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Load;
using EcomDr.Engine.Sources.MySql.Pitr;

namespace EcomDr.Commands;

/// <summary>Point-in-time recovery: a full backup plus the shipped binlog replayed natively, up to a transaction boundary.</summary>
[Cmdlet(VerbsData.Restore, "MySqlPitr", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = TimeSet)]
[OutputType(typeof(PitrResult), typeof(FileInfo))]
public sealed class RestoreMySqlPitrCommand : MySqlTargetCmdlet
{
    private const string ApprovedSet = "Approved";
    private const string TimeSet = "Time";
    private const string GtidSet = "Gtid";
    private const string PositionSet = "Position";
    private const string EventSet = "Event";
    private const string LatestSet = "Latest";

    /// <summary>Restore to the last transaction committed at or before this time.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = TimeSet)]
    public DateTimeOffset TargetTime { get; set; }

    /// <summary>Stop right before this transaction (MariaDB domain-server-seq or MySQL uuid:n).</summary>
    [Parameter(Mandatory = true, ParameterSetName = GtidSet)]
    [ValidateNotNullOrEmpty]
    public string? StopBeforeGtid { get; set; }

    /// <summary>Stop at the last transaction ending at or before file:position.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PositionSet)]
    [ValidateNotNullOrEmpty]
    public string? StopAtPosition { get; set; }

    /// <summary>Stop right before the transaction of this event (from Find-BinlogEvent).</summary>
    [Parameter(Mandatory = true, ParameterSetName = EventSet, ValueFromPipeline = true)]
    public FoundBinlogEvent? StopBeforeEvent { get; set; }

    /// <summary>Replay everything shipped: the newest shipped transaction (a lost server).</summary>
    [Parameter(Mandatory = true, ParameterSetName = LatestSet)]
    public SwitchParameter ToLatest { get; set; }

    /// <summary>Write the plan and the SQL replay would run to this file, for review, instead of running anything.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OutputScriptOnly { get; set; }

    /// <summary>The full backup to start from. Default: the newest complete one finished before the target.</summary>
    [Parameter(ValueFromPipeline = true)]
    public BackupInfo? Backup { get; set; }

    /// <summary>Restore to the newest shipped transaction when the binlog is not shipped up to -TargetTime.</summary>
    [Parameter]
    public SwitchParameter AllowPartial { get; set; }

    /// <summary>Leave these transactions out knowingly (one replay refused because it writes inside and outside the restored schemas).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? SkipGtid { get; set; }

    /// <summary>
    /// Start from this volume snapshot (its backup id, or the BackupInfo) instead of a full backup: the
    /// target server was started on the restored volume, and replay runs from the snapshot's coordinates.
    /// </summary>
    [Parameter]
    [ValidateNotNull]
    public object? FromSnapshot { get; set; }

    /// <summary>With -FromSnapshot and the directory provider: copy the snapshot into this new folder to start a server on, and stop there.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RestoreDirectory { get; set; }

    /// <summary>Write the plan (backup, chain, stop point, target, schema map, digest) to -Path for approval, and run nothing.</summary>
    [Parameter]
    public SwitchParameter PlanOnly { get; set; }

    /// <summary>With -PlanOnly: the plan file to write.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Run an approved plan (Approve-DrRestorePlan): its stop point, backup and schema map, if the recovery is still exactly what was approved.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ApprovedSet)]
    [ValidateNotNullOrEmpty]
    public string? Plan { get; set; }

    private FoundBinlogEvent? _earliest;

    /// <summary>Several events piped in: replay stops before the first of them, so none of them is applied.</summary>
    protected override void ProcessRecord()
    {
        if (StopBeforeEvent is { } found && (_earliest is null || found.IsBefore(_earliest)))
        {
            _earliest = found;
        }
    }

    protected override void EndProcessing()
    {
        if (ParameterSetName == EventSet && _earliest is null)
        {
            // An empty pipeline (Find-BinlogEvent found nothing) must not turn into "restore to the newest".
            Fail(ErrorIds.InvalidArgument, FailureKind.InvalidArgument,
                "No event reached -StopBeforeEvent (did Find-BinlogEvent find nothing?). Nothing was changed.", "StopBeforeEvent");
        }

        if (Backup is not null)
        {
            Store = Backup.Store;
            Environment ??= Backup.Environment;
        }

        if (PlanOnly && Path is null)
        {
            Fail(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, "-PlanOnly writes the plan to a file: give -Path. Nothing was changed.", "Path");
        }

        var approved = Plan is null ? null : Run(() => RestorePlanFile.Load(GetUnresolvedProviderPathFromPSPath(Plan)));
        var config = LoadConfig();
        var environment = Run(() => config.GetEnvironment(Environment));
        using var repository = OpenRepository();
        var context = repository.Context;
        BinlogCoordinate? position = StopAtPosition is null ? null : Run(() => BinlogCoordinate.Parse(StopAtPosition, "-StopAtPosition", ErrorIds.InvalidStopPoint));
        var restoreOptions = new RestoreOptions(TargetSchema, SchemaMapping(), null, ThreadCount, Force, NoBinlog, VerifyFirst: VerifyFirstChoice, KeepFailed: KeepFailed, FastTarget: FastTarget);
        var options = approved is not null
            ? Run(() => RestorePlans.PitrOptionsOf(approved, restoreOptions))
            : new PitrOptions(ParameterSetName == TimeSet ? TargetTime : null, StopBeforeGtid, position, Backup?.Id, restoreOptions, AllowPartial, SkipGtids: SkipGtid);
        if (_earliest is { } found)
        {
            options = options.StoppingBefore(found);
            WriteVerbose($"Stopping before {found.Operation} of {found.Schema}.{found.Table} at {found.File}:{found.Position} ({found.Time:u}, {found.Gtid}): {options.Describe()}.");
        }

        if (FromSnapshot is not null)
        {
            RestoreFromSnapshot(config, environment, context, options);
            return;
        }

        if (RestoreDirectory is not null)
        {
            Fail(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, "-RestoreDirectory copies a volume snapshot: give it with -FromSnapshot. Nothing was changed.", "RestoreDirectory");
        }

        // Resolved after the snapshot copy's early return: a copy into a folder needs no server.
        var target = ResolveTarget(config, environment);
        CheckApproval(environment.Restore, target, approved, changesNothing: PlanOnly || OutputScriptOnly is not null);

        // A whole-server recovery into a server started on the newest snapshot base: start from it, as
        // -FromSnapshot would (a logical restore into that server could only collide with its data).
        if (Backup is null && approved is null && !PlanOnly && TargetSchema is null && SchemaMapping() is not { Count: > 0 } && OutputScriptOnly is null
            && Run(ct => SnapshotPitr.NewestBaseAsync(context, options, ct)) is { } started && Run(ct => SnapshotPitr.StartedFromAsync(target, started, ct)))
        {
            WriteVerbose($"{target.Display} holds volume snapshot {started.Id}'s GTID state ({started.Coordinates}): it was started from it, so the recovery replays from there.");
            FromSnapshot = started;
            RestoreFromSnapshot(config, environment, context, options);
            return;
        }

        // The backup, the continuity of the binlog from it, the reachability of the target, the
        // restore plan and the target's emptiness are all checked before anything changes.
        var plan = Run(ct => PitrRestorer.PlanAsync(context, options, ct));
        if (Run(ct => SnapshotPitr.NewestBaseAsync(context, options, ct)) is { } newer && newer.Created > plan.Backup.Created)
        {
            WriteVerbose($"Volume snapshot {newer.Id} ({newer.Coordinates}) is a newer base than full backup {plan.Backup.Id}: a server started on it and -FromSnapshot {newer.Id} replays less, with no logical restore.");
        }
        // What was approved must be what runs: the plan made again now must have the approved digest.
        var planned = RestorePlans.ForPitr(plan, target.Display, environment.Name, context.Store.Name, approved is null ? PlanAuthor.Current() : PlanAuthor.Of(approved));
        if (approved is not null)
        {
            CheckApprovedPlanUnchanged(approved, planned);
        }

        if (PlanOnly)
        {
            WritePlanFile(planned, Path!, plan.Describe(), "Restore-MySqlPitr");
            return;
        }

        if (OutputScriptOnly is not null)
        {
            // Nothing is run anywhere: the script is the plan and the replay's statements, for review.
            var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutputScriptOnly);
            if (!ShouldProcess(path, $"Write the point-in-time recovery script: {plan.Describe()}"))
            {
                return;
            }

            var scripted = Run(ct => PitrRestorer.WriteScriptAsync(context, plan, path, target.Display, ct));
            WriteVerbose($"Script {path}: replay stops {scripted.StoppedBecause}, {scripted.Transactions:N0} transaction(s).");
            WriteObject(scripted);
            return;
        }

        WriteVerbose($"Plan: {plan.Describe()}; newest shipped event {plan.NewestShippedEvent:u}.");
        if (!ShouldProcessUnlessForced(Force, target.Display, $"Point-in-time recovery: {plan.Describe()}"))
        {
            return;
        }

        var restoreProgress = new LatestProgress<RestoreProgress>();
        var replayProgress = new LatestProgress<ReplayProgress>();
        var activity = $"Point-in-time recovery into {target.Display}";
        var result = Run(ct => PitrRestorer.RunAsync(context, plan, target, restoreProgress, replayProgress, ct), () =>
        {
            if (replayProgress.TryGet(out var r))
            {
                WriteProgress(new ProgressRecord(8, activity, $"Replaying: {r.Transactions:N0} transaction(s), {r.Events:N0} event(s)")
                {
                    CurrentOperation = $"{r.File}:{r.Position} at {r.BinlogTime:u} (target: {options.Describe()})",
                });
            }
            else if (restoreProgress.TryGet(out var p))
            {
                WriteProgress(new ProgressRecord(8, activity, $"Full restore, {p.Phase}: {p.Item}") { PercentComplete = p.Chunks > 0 ? 100 * p.ChunksDone / p.Chunks : -1 });
            }
        });
        CompleteProgress(8, activity);
        if (result.GtidNote is { } note)
        {
            WriteVerbose($"GTIDs: {note}.");
        }

        foreach (var skipped in result.Skipped)
        {
            WriteWarning($"Left out {skipped}{(skipped.Statement.Length > 0 ? $": {skipped.Statement}" : "")}");
        }

        WriteVerbose($"Full restore {result.FullRestorePhase.TotalSeconds:0.0} s, replay {result.ReplayPhase.TotalSeconds:0.0} s ({result.Transactions:N0} transactions); stopped: {result.StoppedBecause}.");
        WriteObject(result);
    }

    /// <summary>
    /// -FromSnapshot: with -RestoreDirectory, copies a directory snapshot for a server to be started on;
    /// otherwise checks that the target holds the snapshot's GTID state and replays from its coordinates.
    /// </summary>
    private void RestoreFromSnapshot(Engine.Config.EcomDrConfig config, Engine.Config.EnvironmentConfig environment, RepositoryContext context, PitrOptions options)
    {
        var id = (FromSnapshot is PSObject wrapped ? wrapped.BaseObject : FromSnapshot) switch
        {
            BackupInfo b => b.Id,
            var other => other?.ToString() ?? "",
        };
        if (TargetSchema is not null || SchemaMapping() is { Count: > 0 } || OutputScriptOnly is not null)
        {
            Fail(ErrorIds.InvalidArgument, FailureKind.InvalidArgument,
                "-FromSnapshot restores the whole server as the snapshot holds it: -TargetSchema, -SchemaMap and -OutputScriptOnly do not apply. Nothing was changed.", "FromSnapshot");
        }

        var plan = Run(ct => SnapshotPitr.PlanAsync(context, id, options, ct));
        if (RestoreDirectory is not null)
        {
            var destination = SessionState.Path.GetUnresolvedProviderPathFromPSPath(RestoreDirectory);
            var record = Run(() => Engine.Sources.MySql.Snapshots.SnapshotRecord.Of(plan.Snapshot)).Primary;
            if (record.Provider != "directory" || environment.MySql?.VolumeSnapshot?.Directory is not { } directory)
            {
                Fail(ErrorIds.InvalidArgument, FailureKind.InvalidArgument,
                    $"Snapshot {id} was taken by the {record.Provider} provider: restore its volume with the provider's own tools (docs/snapshots.md), start a server on it, then run -FromSnapshot with -TargetServer. -RestoreDirectory is for the configured directory provider.",
                    "RestoreDirectory");
                return;
            }

            if (!ShouldProcessUnlessForced(Force, destination, $"Copy volume snapshot {id}"))
            {
                return;
            }

            var original = (string?)plan.Snapshot.Source["dataDirectory"] ?? "";
            Run(async ct =>
            {
                await new Engine.Sources.MySql.Snapshots.DirectorySnapshotProvider(directory).RestoreAsync(plan.Snapshot.Id, original, destination, ct).ConfigureAwait(false);
                return true;
            });
            WriteInformation(new InformationRecord(
                $"Snapshot {id} is in {destination}. Start a server on it (mariadbd --datadir={destination} ..., with the source's configuration), let crash recovery finish, then: " +
                $"Restore-MySqlPitr -FromSnapshot {id} -TargetServer <that server> and the same stop point.", "Restore-MySqlPitr"));
            return;
        }

        var target = ResolveTarget(config, environment);
        if (environment.Restore?.Protects(target.Server, target.Port) == true)
        {
            Fail(ErrorIds.RestoreApprovalRequired, FailureKind.SecurityError,
                $"{target.Display} is a protected target (restore.protectedTargets): approved plans cover logical recoveries only. Replay from the snapshot into an unprotected server, or write a plan without -FromSnapshot. Nothing was changed.",
                target.Display);
        }

        WriteVerbose($"Plan: {plan.Describe()}; newest shipped event {plan.NewestShippedEvent:u}.");
        if (!ShouldProcessUnlessForced(Force, target.Display, $"Point-in-time recovery: {plan.Describe()}"))
        {
            return;
        }

        var replayProgress = new LatestProgress<ReplayProgress>();
        var activity = $"Point-in-time recovery into {target.Display} from volume snapshot {id}";
        var result = Run(ct => SnapshotPitr.RunAsync(context, plan, target, replayProgress, ct), () =>
        {
            if (replayProgress.TryGet(out var r))
            {
                WriteProgress(new ProgressRecord(8, activity, $"Replaying: {r.Transactions:N0} transaction(s), {r.Events:N0} event(s)")
                {
                    CurrentOperation = $"{r.File}:{r.Position} at {r.BinlogTime:u} (target: {options.Describe()})",
                });
            }
        });
        CompleteProgress(8, activity);
        foreach (var skipped in result.Skipped)
        {
            WriteWarning($"Left out {skipped}{(skipped.Statement.Length > 0 ? $": {skipped.Statement}" : "")}");
        }

        WriteVerbose($"GTID state checked in {result.FullRestorePhase.TotalSeconds:0.0} s, replay {result.ReplayPhase.TotalSeconds:0.0} s ({result.Transactions:N0} transactions); stopped: {result.StoppedBecause}.");
        WriteObject(result);
    }
}
