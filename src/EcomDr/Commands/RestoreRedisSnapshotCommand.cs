using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Config;
using EcomDr.Engine.Sources.Redis;

namespace EcomDr.Commands;

/// <summary>
/// Loads keys of a Redis snapshot into a chosen Redis (a forensic sandbox) with RESTORE, from the RDB's
/// own bytes; refuses a target that holds keys unless -Replace.
/// </summary>
[Cmdlet(VerbsData.Restore, "RedisSnapshot", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(RedisRestoreResult))]
public sealed class RestoreRedisSnapshotCommand : RepositoryCmdlet
{
    /// <summary>The redis backup; the newest complete one when not given. Binds from Get-DrBackup redis.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.BackupIdCompleter))]
    public string? Id { get; set; }

    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string TargetServer { get; set; } = "";

    [Parameter]
    [ValidateRange(1, 65535)]
    public int TargetPort { get; set; } = ConfigDefaults.RedisPort;

    [Parameter]
    [Credential]
    public PSCredential TargetCredential { get; set; } = PSCredential.Empty;

    [Parameter]
    [ValidateSet("None", "Required", "Verify")]
    public string TargetTls { get; set; } = "None";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TargetCaFile { get; set; }

    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Pattern { get; set; }

    [Parameter]
    [ValidateRange(0, 15)]
    public int[]? Database { get; set; }

    /// <summary>Load into a Redis that already holds keys, replacing those with the same names.</summary>
    [Parameter]
    public SwitchParameter Replace { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        using var repository = OpenRepository();
        var backup = Run(ct => RedisSnapshotKeys.FindAsync(repository.Context, Id, ct));
        var credential = ConnectionParameters.ToResolved(TargetCredential);
        var target = new RedisEndpoint(TargetServer, TargetPort, Enum.Parse<RedisTlsMode>(TargetTls, ignoreCase: true),
            TargetCaFile is null ? null : GetUnresolvedProviderPathFromPSPath(TargetCaFile), credential?.User, credential?.Password,
            TimeSpan.FromSeconds(ConfigDefaults.RedisReadTimeoutSeconds));
        var what = Pattern is null && Database is null ? "every key" : $"the keys matching {string.Join(", ", Pattern ?? ["*"])}{(Database is null ? "" : $" in database(s) {string.Join(", ", Database)}")}";
        if (!ShouldProcessUnlessForced(Force, target.Display, $"Load {what} of Redis snapshot {backup.Id}{(Replace ? ", replacing keys with the same names" : "")}"))
        {
            return;
        }

        var progress = new LatestProgress<long>();
        var activity = $"Loading snapshot {backup.Id} into {target.Display}";
        var result = Run(ct => RedisSnapshotRestore.RunAsync(repository.Context, backup, target, RedisKeyFilter.Of(Pattern, Database), Replace, progress, ct), () =>
        {
            if (progress.TryGet(out var keys))
            {
                WriteProgress(new ProgressRecord(7, activity, $"{keys:N0} key(s) loaded"));
            }
        });
        CompleteProgress(7, activity);
        foreach (var refused in result.Refused)
        {
            WriteWarning($"Not loaded: {refused}");
        }

        if (result.Expired > 0)
        {
            WriteVerbose($"{result.Expired} key(s) had expired by now and were left out.");
        }

        WriteObject(result);
    }
}
