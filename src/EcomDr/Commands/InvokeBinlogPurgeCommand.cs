using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Commands;

/// <summary>
/// Purges the source server's binlogs, but only the files every required store holds whole and whose
/// last event is older than the margin; one PURGE BINARY LOGS TO up to the first file that stays.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "BinlogPurge", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(BinlogPurgeFile))]
public sealed class InvokeBinlogPurgeCommand : MySqlSourceCmdlet
{
    /// <summary>The stores a file must be shipped to whole; default: every repository of the environment.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.StoreCompleter))]
    public string[]? RequireStore { get; set; }

    /// <summary>Hours a file's last event must be old; default: schedules.binlogExpiryMarginHours.</summary>
    [Parameter]
    [ValidateRange(0, 8760)]
    public int? MarginHours { get; set; }

    /// <summary>Purge without prompting (schedules).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void EndProcessing()
    {
        var config = LoadConfig();
        var environment = Run(() => config.GetEnvironment(Environment));
        var endpoint = ResolveSource(config, environment);
        using var repository = OpenRepository();
        var contexts = StoresOf(repository, RequireStore);
        var margin = TimeSpan.FromHours(MarginHours ?? environment.Schedules.BinlogExpiryMarginHours);
        var plan = Run(ct => BinlogPurge.PlanAsync(endpoint, contexts, margin, DateTimeOffset.UtcNow, ct));
        WriteObject(plan, enumerateCollection: true);
        var purge = plan.TakeWhile(f => f.Purge).ToList();
        if (purge.Count == 0)
        {
            WriteVerbose($"Nothing to purge on {endpoint.Display}: {plan[0].File} stays ({plan[0].Reason}).");
            return;
        }

        if (!ShouldProcessUnlessForced(Force, endpoint.Display, $"PURGE BINARY LOGS TO '{plan[purge.Count].File}' ({purge.Count} file(s), {string.Join(", ", purge.Select(f => f.File))})"))
        {
            return;
        }

        var kept = Run(ct => BinlogPurge.PurgeAsync(endpoint, plan, ct));
        WriteVerbose($"Purged {purge.Count - kept.Count} binlog file(s) on {endpoint.Display}, up to {plan[purge.Count].File}.");
        if (kept.Count > 0)
        {
            WriteWarning($"{endpoint.Display} kept {string.Join(", ", kept)}, which it still uses (a connected replica, or MariaDB's binlog checkpoint); the next run purges them.");
        }
    }
}
