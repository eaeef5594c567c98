using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Commands;

/// <summary>Shows how much data a disaster now would lose: with -CheckServer the age of the oldest transaction the server holds unshipped, else the time since the newest shipped event.</summary>
[Cmdlet(VerbsCommon.Get, "DrRpoStatus")]
[OutputType(typeof(RpoStatus))]
public sealed class GetDrRpoStatusCommand : MySqlSourceCmdlet
{
    /// <summary>Also ask the server where its binlog ends: an exposure of zero when everything is shipped.</summary>
    [Parameter]
    public SwitchParameter CheckServer { get; set; }

    protected override void EndProcessing()
    {
        var config = LoadConfig();
        var environment = Run(() => config.GetEnvironment(Environment));
        using var repository = OpenRepository();
        var (chain, _, bases) = Run(ct => RecoveryWindow.LoadAsync(repository.Context, ct));
        ServerBinlogState? server = null;
        if (CheckServer || Server is not null)
        {
            var endpoint = ResolveSource(config, environment);
            server = Run(ct => UnshippedProbe.ReadAsync(endpoint, chain.Newest?.Next, RpoStatus.ShippedGtidState(chain), ct));
        }

        var status = RpoStatus.Compute(chain, repository.Context, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(environment.Objectives.RpoMinutes), server, bases);
        if (status.Problem is { } problem)
        {
            WriteWarning(problem);
        }
        else if (!status.WithinObjective)
        {
            WriteWarning($"RPO exposure {status.ExposureSeconds:0} s exceeds the objective of {status.ObjectiveSeconds:0} s.");
        }

        WriteObject(status);
    }
}
