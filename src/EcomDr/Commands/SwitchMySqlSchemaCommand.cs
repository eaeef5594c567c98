using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Sources.MySql.Load;

namespace EcomDr.Commands;

/// <summary>Puts a restored schema in the live one's place with one atomic RENAME TABLE; the live tables are kept aside.</summary>
[Cmdlet(VerbsCommon.Switch, "MySqlSchema", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(SchemaSwapResult))]
public sealed class SwitchMySqlSchemaCommand : MySqlSourceCmdlet
{
    /// <summary>The restored schema to swap in (for example ecommerce_restore).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string From { get; set; } = "";

    /// <summary>The live schema it replaces (for example ecommerce).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string To { get; set; } = "";

    /// <summary>Swap even when the restore into -From is recorded as unfinished, and skip the confirmation prompt.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var config = LoadConfig();
        var environment = Run(() => config.GetEnvironment(Environment));
        var server = ResolveSource(config, environment);
        var plan = Run(ct => SchemaSwap.PlanAsync(server, From, To, Force, DateTimeOffset.UtcNow, ct));
        WriteVerbose($"Plan on {plan.Server}: {plan.Describe()}.");
        WriteVerbose(plan.RenameStatement);
        if (!ShouldProcessUnlessForced(Force, $"`{To}` on {plan.Server}", $"Swap in `{From}`: {plan.Describe()}"))
        {
            return;
        }

        var result = Run(ct => SchemaSwap.RunAsync(server, plan, ct));
        WriteInformation(new HostInformationMessage { Message = $"Swapped `{From}` into `{To}`; the previous tables are in `{result.PreviousSchema}`. To swap back: {result.SwapBack}" },
            new[] { "EcomDr.SwapBack" });
        WriteObject(result);
    }
}
