using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Operations.Approvals;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Load;

namespace EcomDr.Commands;

/// <summary>Restores a MySQL full backup into a server, optionally under other schema names or only some tables.</summary>
[Cmdlet(VerbsData.Restore, "MySqlDatabase", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = IdSet)]
[OutputType(typeof(RestoreResult), typeof(FileInfo))]
public sealed class RestoreMySqlDatabaseCommand : MySqlTargetCmdlet
{
    private const string IdSet = "Id";
    private const string BackupSet = "Backup";
    private const string ApprovedSet = "Approved";

    /// <summary>Write the plan (backup, schema map, tables, target, digest) to -Path for approval, and run nothing.</summary>
    [Parameter(ParameterSetName = IdSet)]
    [Parameter(ParameterSetName = BackupSet)]
    public SwitchParameter PlanOnly { get; set; }

    /// <summary>With -PlanOnly: the plan file to write.</summary>
    [Parameter(ParameterSetName = IdSet)]
    [Parameter(ParameterSetName = BackupSet)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Run an approved plan (Approve-DrRestorePlan): its backup, schema map and tables, if the restore is still exactly what was approved.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ApprovedSet)]
    [ValidateNotNullOrEmpty]
    public string? Plan { get; set; }

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = BackupSet)]
    public BackupInfo? Backup { get; set; }

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ValidateNotNullOrEmpty]
    [Alias("BackupId")]
    [ArgumentCompleter(typeof(EcomDr.Completion.FullBackupIdCompleter))]
    public string Id { get; set; } = "";

    /// <summary>Only these tables (name or schema.name); their triggers come along, other objects do not.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Table { get; set; }

    [Parameter]
    public SwitchParameter IncludeUsers { get; set; }

    protected override void ProcessRecord()
    {
        if (Backup is not null)
        {
            Id = Backup.Id;
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
        var target = ResolveTarget(config, environment);
        CheckApproval(environment.Restore, target, approved, changesNothing: PlanOnly);

        using var repository = OpenRepository();
        var context = repository.Context;
        var options = new RestoreOptions(TargetSchema, SchemaMapping(), Table, ThreadCount, Force, NoBinlog, IncludeUsers, VerifyFirst: VerifyFirstChoice, KeepFailed: KeepFailed, FastTarget: FastTarget);
        if (approved is not null)
        {
            (Id, options) = Run(() => RestorePlans.DatabaseOptionsOf(approved, options));
        }

        var backup = Run(ct => BackupCatalog.GetAsync(context, Id, ct));

        // Everything is checked before anything changes: the plan, the credentials, the target's emptiness.
        var plan = Run(ct => RestorePlan.CreateAsync(context, backup, options, ct));
        var planned = RestorePlans.ForDatabase(plan, backup, options, target.Display, environment.Name, context.Store.Name, approved is null ? PlanAuthor.Current() : PlanAuthor.Of(approved));
        if (approved is not null)
        {
            CheckApprovedPlanUnchanged(approved, planned);
        }

        if (PlanOnly)
        {
            WritePlanFile(planned, Path!, plan.Describe(), "Restore-MySqlDatabase");
            return;
        }

        Run(async ct =>
        {
            await MySqlRestorer.CheckTargetAsync(target, plan, Force, ct).ConfigureAwait(false);
            return true;
        });
        if (!ShouldProcessUnlessForced(Force, target.Display, $"Restore {plan.Describe()}"))
        {
            return;
        }

        var progress = new LatestProgress<RestoreProgress>();
        var activity = $"Restoring {backup.Id} into {target.Display}";
        var result = Run(ct => MySqlRestorer.RunAsync(context, plan, target, options, progress, ct), () =>
        {
            if (progress.TryGet(out var p))
            {
                WriteProgress(new ProgressRecord(6, activity, $"{p.Phase}: {p.Item}")
                {
                    PercentComplete = p.Chunks > 0 ? 100 * p.ChunksDone / p.Chunks : -1,
                    CurrentOperation = p.Rows > 0 ? $"{p.Rows:N0} rows loaded" : null,
                });
            }
        });
        CompleteProgress(6, activity);
        WriteVerbose($"Schema {result.SchemaPhase.TotalSeconds:0.0} s, data {result.DataPhase.TotalSeconds:0.0} s ({result.Rows:N0} rows; {result.LoadDataChunks} of {result.Chunks} chunk(s) as LOAD DATA LOCAL), keys {result.KeysPhase.TotalSeconds:0.0} s, objects {result.ObjectsPhase.TotalSeconds:0.0} s. Point-in-time recovery continues from {result.Coordinates}.");
        WriteObject(result);
    }
}
