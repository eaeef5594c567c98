using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Sources.Vault;

namespace EcomDr.Commands;

/// <summary>Keeps the secondary vault warm: the newest secrets backup written into it, replacing what differs.</summary>
[Cmdlet(VerbsData.Sync, "VaultSecret", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(VaultSecretChange))]
public sealed class SyncVaultSecretCommand : VaultCmdlet
{
    /// <summary>The secrets backup; the newest complete one when not given.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.BackupIdCompleter))]
    public string? Id { get; set; }

    /// <summary>Which configured Vault is kept in step: secondary (the default) or primary.</summary>
    [Parameter]
    [ValidateSet("primary", "secondary")]
    public string Destination { get; set; } = "secondary";

    /// <summary>Do not ask (unattended runs).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void EndProcessing()
    {
        using var repository = OpenRepository();
        var (plan, kv) = PlanRestore(repository, Id, Destination, SecretSelection.All, 0, overwrite: true);
        var writes = plan.Changes.Where(c => c.WritesValue || c.WritesMetadata).ToList();
        var summary = string.Join(", ", writes.GroupBy(c => c.Change).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"));
        var approved = writes.Count > 0 && ShouldProcessUnlessForced(Force, plan.Target.ToString(), $"Write {writes.Count} secret(s) of backup {plan.Backup.Id} ({summary})")
            ? writes.Select(c => c.FullPath).ToHashSet(StringComparer.Ordinal)
            : new HashSet<string>(StringComparer.Ordinal);
        WriteVerbose($"{plan.Changes.Count(c => c.Change == SecretChangeKind.Unchanged)} secret(s) unchanged, {plan.Changes.Count(c => c.Change == SecretChangeKind.OnlyInTarget)} only in {plan.Target} (left alone).");
        var done = approved.Count == 0 ? plan.Changes.Select(c => c.WithoutDigest()).ToList() : Run(ct => SecretRestore.ApplyAsync(repository.Context, plan, kv, approved, ct));
        WriteObject(done, enumerateCollection: true);
    }
}
