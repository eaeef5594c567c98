using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Operations.Retention;

namespace EcomDr.Commands;

/// <summary>
/// Every backup of an environment in every store: where it is, whether it verified last time, its
/// retention decision and when it expires; and each store's recoverable window. -Format renders it.
/// </summary>
[Cmdlet(VerbsCommon.Get, "DrInventory")]
[OutputType(typeof(InventoryItem), typeof(RecoverableWindow))]
public sealed class GetDrInventoryCommand : RepositoryCmdlet
{
    /// <summary>Objects (default), or one Markdown or HTML document for people.</summary>
    [Parameter]
    [ValidateSet("Objects", "Markdown", "Html")]
    public string Format { get; set; } = "Objects";

    protected override void EndProcessing()
    {
        using var repository = OpenRepository();
        var environment = repository.Environment;
        // Every store of the environment, unless one is named (or a location given).
        var stores = StoresOf(repository, MyInvocation.BoundParameters.ContainsKey(nameof(Store)) ? [repository.Context.Store.Name] : null);
        var inventory = Run(ct => Inventory.BuildAsync(stores, environment.Retentions, DateTimeOffset.UtcNow, ct));
        switch (Format)
        {
            case "Markdown":
                WriteObject(inventory.ToMarkdown());
                break;
            case "Html":
                WriteObject(inventory.ToHtml());
                break;
            default:
                WriteObject(inventory.Items, enumerateCollection: true);
                WriteObject(inventory.Windows, enumerateCollection: true);
                break;
        }
    }
}
