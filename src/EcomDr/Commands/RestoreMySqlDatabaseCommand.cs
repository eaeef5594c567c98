using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.MySql.Load;
using EcomDr.Engine.Repository;

namespace EcomDr.Commands;

/// <summary>Restores a MySQL full backup into a server, optionally under other schema names or only some tables.</summary>
[Cmdlet(VerbsData.Restore, "MySqlDatabase", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = IdSet)]
[OutputType(typeof(RestoreResult))]
public sealed class RestoreMySqlDatabaseCommand : RepositoryCmdlet
{
    private const string IdSet = "Id";
    private const string BackupSet = "Backup";

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = BackupSet)]
    public BackupInfo? Backup { get; set; }

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ValidateNotNullOrEmpty]
    [Alias("BackupId")]
    public string Id { get; set; } = "";

    /// <summary>Server to restore into. Default: the environment's MySQL source.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TargetServer { get; set; }

    [Parameter]
    [ValidateRange(1, 65535)]
    public int? TargetPort { get; set; }

    [Parameter]
    [Credential]
    public PSCredential? TargetCredential { get; set; }

    [Parameter]
    [ValidateSet("None", "Preferred", "Required", "VerifyCA", "VerifyFull")]
    public string? TargetSslMode { get; set; }

    /// <summary>Restore the backup's single schema under this name (for example ecommerce_restore).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TargetSchema { get; set; }

    /// <summary>Source schema to target schema, for backups of several schemas.</summary>
    [Parameter]
    public System.Collections.Hashtable? SchemaMap { get; set; }

    /// <summary>Only these tables (name or schema.name); their triggers come along, other objects do not.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Table { get; set; }

    [Parameter]
    [ValidateRange(1, 64)]
    public int ThreadCount { get; set; }

    /// <summary>Do not write the restore to the target's binary log (needs SUPER or BINLOG ADMIN).</summary>
    [Parameter]
    public SwitchParameter NoBinlog { get; set; }

    [Parameter]
    public SwitchParameter IncludeUsers { get; set; }

    /// <summary>Replace the restored tables and objects in a non-empty target schema, and skip the confirmation prompt.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        if (Backup is not null)
        {
            Id = Backup.Id;
            Store = Backup.Store;
            Environment ??= Backup.Environment;
        }

        var config = LoadConfig();
        var environment = Run(() => config.GetEnvironment(Environment));
        var target = Run(() => MySqlEndpointParameters.Resolve(this, work => Run(work), config, environment, TargetServer, TargetPort, TargetCredential, TargetSslMode));
        using var repository = OpenRepository();
        var context = repository.Context;
        var backup = Run(ct => BackupCatalog.GetAsync(context, Id, ct));
        var map = SchemaMap?.Cast<System.Collections.DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => e.Value?.ToString() ?? "", StringComparer.Ordinal);
        var options = new RestoreOptions(TargetSchema, map, Table, ThreadCount, Force, NoBinlog, IncludeUsers);

        // Everything is checked before anything changes: the plan, the credentials, the target's emptiness.
        var plan = Run(ct => RestorePlan.CreateAsync(context, backup, options, ct));
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
        WriteVerbose($"Schema {result.SchemaPhase.TotalSeconds:0.0} s, data {result.DataPhase.TotalSeconds:0.0} s ({result.Rows:N0} rows), keys {result.KeysPhase.TotalSeconds:0.0} s, objects {result.ObjectsPhase.TotalSeconds:0.0} s. Point-in-time recovery continues from {result.Coordinates}.");
        WriteObject(result);
    }
}
