using System.Management.Automation;
using EcomDr.Engine.Config;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Common;

/// <summary>
/// Base of the restores: the target server (default: the environment's MySQL source), the schema
/// names to restore under, the load's parallelism and binlogging, and -Force.
/// </summary>
public abstract class MySqlTargetCmdlet : RepositoryCmdlet
{
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

    [Parameter]
    [ValidateRange(1, 64)]
    public int ThreadCount { get; set; }

    /// <summary>Do not write the restore to the target's binary log (needs SUPER or BINLOG ADMIN).</summary>
    [Parameter]
    public SwitchParameter NoBinlog { get; set; }

    /// <summary>Check every artifact's stored SHA-256 before anything changes (default: on for a remote store such as S3); -VerifyFirst:$false skips it.</summary>
    [Parameter]
    public SwitchParameter VerifyFirst { get; set; }

    /// <summary>Keep what a failed restore created, marked incomplete, for forensics, instead of removing it.</summary>
    [Parameter]
    public SwitchParameter KeepFailed { get; set; }

    /// <summary>A fresh server only: relax durability (innodb_flush_log_at_trx_commit=2, sync_binlog=0) while restoring, set back at the end.</summary>
    [Parameter]
    public SwitchParameter FastTarget { get; set; }

    /// <summary>Replace the restored tables and objects in a non-empty target schema, and skip the confirmation prompt.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>-VerifyFirst as given, or null for the store's default.</summary>
    private protected bool? VerifyFirstChoice => MyInvocation.BoundParameters.ContainsKey(nameof(VerifyFirst)) ? VerifyFirst.IsPresent : null;

    private protected MySqlEndpoint ResolveTarget(EcomDrConfig config, EnvironmentConfig environment) =>
        Run(() => MySqlEndpointParameters.Resolve(this, work => Run(work), config, environment, TargetServer, TargetPort, TargetCredential, TargetSslMode));

    private protected Dictionary<string, string>? SchemaMapping() =>
        SchemaMap?.Cast<System.Collections.DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => e.Value?.ToString() ?? "", StringComparer.Ordinal);

    /// <summary>
    /// Two-person approval: a plan given must verify (signatures, approvers, age) whatever the target;
    /// without one, a protected target refuses the restore before anything changes, -Force or not.
    /// Writing a plan or a review script changes nothing, so it is allowed.
    /// </summary>
    private protected void CheckApproval(RestoreConfig? restore, MySqlEndpoint target, Engine.Operations.Approvals.RestorePlanFile? approved, bool changesNothing)
    {
        if (approved is not null)
        {
            Run(() => approved.Verify(restore ?? new RestoreConfig(0, [], [], ConfigDefaults.ApprovalHours), DateTimeOffset.UtcNow));
            return;
        }

        if (restore?.Protects(target.Server, target.Port) == true && !changesNothing)
        {
            Fail(Engine.Errors.ErrorIds.RestoreApprovalRequired, Engine.Errors.FailureKind.SecurityError,
                $"{target.Display} is a protected target (restore.protectedTargets): a restore into it runs only from a plan approved by {restore.RequiredApprovals} listed approver(s). " +
                "Write it with -PlanOnly -Path plan.json, have it approved (Approve-DrRestorePlan), then run -Plan plan.json. Nothing was changed.", target.Display);
        }
    }

    /// <summary>What was approved must be what runs: the plan made again now must have the approved digest.</summary>
    private protected void CheckApprovedPlanUnchanged(Engine.Operations.Approvals.RestorePlanFile approved, System.Text.Json.Nodes.JsonObject planned)
    {
        Run(() =>
        {
            Engine.Operations.Approvals.RestorePlans.CheckUnchanged(approved, planned);
            return true;
        });
        WriteVerbose($"Running the approved plan {approved.Digest[..12]} ({string.Join(", ", approved.Approvals.Select(a => $"approved by {a.Approver} {a.SignedAt:u}"))}).");
    }

    /// <summary>-PlanOnly: writes the plan for approval. It changes nothing anywhere: no prompt, only -WhatIf holds it back.</summary>
    private protected void WritePlanFile(System.Text.Json.Nodes.JsonObject planned, string path, string description, string runner)
    {
        var file = GetUnresolvedProviderPathFromPSPath(path);
        if (!ShouldProcessUnlessForced(true, file, $"Write the restore plan for approval: {description}"))
        {
            return;
        }

        var written = Engine.Operations.Approvals.RestorePlanFile.Create(planned);
        Run(() =>
        {
            written.Save(file);
            return true;
        });
        WriteVerbose($"Plan {written.Digest[..12]} written to {file}: {description}. Approve-DrRestorePlan signs it; {runner} -Plan runs it.");
        WriteObject(new FileInfo(file));
    }
}
