using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Validation;

namespace EcomDr.Commands;

/// <summary>Validates a restored schema: the restore finished, tables, row counts and checksums against a reference, the Alembic revision.</summary>
[Cmdlet(VerbsDiagnostic.Test, "MySqlRestore", DefaultParameterSetName = SchemaSet)]
[OutputType(typeof(ValidationReport))]
public sealed class TestMySqlRestoreCommand : MySqlSourceCmdlet
{
    private const string SchemaSet = "ReferenceSchema";
    private const string BackupSet = "Backup";

    /// <summary>The restored schema to check (on -Server, default the environment's MySQL server).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Schema { get; set; } = "";

    /// <summary>Compare with this schema: the source at the same point (on -ReferenceServer, default the same server).</summary>
    [Parameter(ParameterSetName = SchemaSet)]
    [Parameter(ParameterSetName = BackupSet)]
    [ValidateNotNullOrEmpty]
    public string? ReferenceSchema { get; set; }

    [Parameter(ParameterSetName = SchemaSet)]
    [ValidateNotNullOrEmpty]
    public string? ReferenceServer { get; set; }

    [Parameter(ParameterSetName = SchemaSet)]
    [ValidateRange(1, 65535)]
    public int? ReferencePort { get; set; }

    [Parameter(ParameterSetName = SchemaSet)]
    [Credential]
    public PSCredential? ReferenceCredential { get; set; }

    /// <summary>Compare with the table statistics this full backup recorded (for a restore of it without replay).</summary>
    [Parameter(Mandatory = true, ParameterSetName = BackupSet, ValueFromPipeline = true)]
    public BackupInfo? Backup { get; set; }

    /// <summary>The Alembic head revision(s) alembic_version must hold.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? AlembicHead { get; set; }

    /// <summary>An Alembic migrations folder (or its versions folder) whose head revision(s) alembic_version must hold.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? MigrationsPath { get; set; }

    protected override void ProcessRecord()
    {
        var config = LoadConfig();
        var environment = Run(() => config.GetEnvironment(Environment));
        var server = ResolveSource(config, environment);
        var heads = AlembicHead is not null ? AlembicHead
            : MigrationsPath is not null ? Run(() => AlembicHeads.FromFolder(SessionState.Path.GetUnresolvedProviderPathFromPSPath(MigrationsPath)))
            : null;
        var reference = Backup is not null ? new ValidationReference(Schema: ReferenceSchema, Backup: Backup)
            : ReferenceSchema is not null ? new ValidationReference(ReferenceServer is null && ReferencePort is null && ReferenceCredential is null
                ? server
                : Run(() => MySqlEndpointParameters.Resolve(this, work => Run(work), config, environment, ReferenceServer, ReferencePort, ReferenceCredential, SslMode)), ReferenceSchema)
            : new ValidationReference();
        var progress = new LatestProgress<string>();
        var activity = $"Validating `{Schema}`";
        var report = Run(ct => RestoreValidator.RunAsync(server, Schema, reference, heads, progress, ct), () =>
        {
            if (progress.TryGet(out var table))
            {
                WriteProgress(new ProgressRecord(9, activity, $"Checksumming {table}"));
            }
        });
        CompleteProgress(9, activity);
        foreach (var check in report.Checks)
        {
            WriteVerbose($"{(check.Passed ? "PASS" : "FAIL")} {check.Name}: {check.Evidence}");
        }

        WriteObject(report);
    }
}
