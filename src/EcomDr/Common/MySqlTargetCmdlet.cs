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
}
