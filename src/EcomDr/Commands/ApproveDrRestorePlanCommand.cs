using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Operations.Approvals;

namespace EcomDr.Commands;

/// <summary>
/// A second person's approval of a restore plan (peer review): the plan is shown, checked unchanged
/// since it was written, and signed with the approver's personal key (New-DrKey -Approver). The plan's
/// author cannot approve it.
/// </summary>
[Cmdlet(VerbsLifecycle.Approve, "DrRestorePlan", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(RestoreApproval))]
public sealed class ApproveDrRestorePlanCommand : EcomDrCmdlet
{
    /// <summary>The plan file (Restore-MySqlPitr or Restore-MySqlDatabase -PlanOnly -Path).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The approver's key file. Default: ~/.ecomdr/approver.key.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyFile { get; set; }

    protected override void EndProcessing()
    {
        var path = GetUnresolvedProviderPathFromPSPath(Path);
        var plan = Run(() => RestorePlanFile.Load(path));
        var keyPath = GetUnresolvedProviderPathFromPSPath(KeyFile ?? System.IO.Path.Join(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".ecomdr", "approver.key"));
        using var key = Run(() => ApproverKey.Load(keyPath));
        // What is approved is said in full before anything is signed.
        WriteInformation(new InformationRecord($"Plan {plan.Digest[..12]} by {plan.Author} ({(string?)plan.Plan["created"]}): {plan.Describe}", "Approve-DrRestorePlan"));
        if (!ShouldProcess(path, $"Approve as {key.Name}: {plan.Describe}"))
        {
            return;
        }

        var approval = Run(() => plan.Approve(key, DateTimeOffset.UtcNow));
        Run(() =>
        {
            plan.Save(path);
            return true;
        });
        WriteObject(approval);
    }
}
