using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Sources.Vault;

namespace EcomDr.Commands;

/// <summary>Re-injects a secrets backup into a Vault (the rebuilt primary or the secondary) with check-and-set, never through a plaintext file.</summary>
[Cmdlet(VerbsData.Restore, "VaultSecret", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(VaultSecretChange))]
public sealed class RestoreVaultSecretCommand : VaultCmdlet
{
    /// <summary>The secrets backup; the newest complete one when not given. Binds from Get-DrBackup secrets.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.BackupIdCompleter))]
    public string? Id { get; set; }

    /// <summary>Which configured Vault receives the secrets: primary (the exported one, rebuilt) or secondary.</summary>
    [Parameter]
    [ValidateSet("primary", "secondary")]
    public string Destination { get; set; } = "primary";

    /// <summary>Secrets by full path (mount/path), or folders ending with '/'.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    /// <summary>Wildcards on the full path that a secret must match.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Include { get; set; }

    /// <summary>Wildcards on the full path that leave a secret out.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Exclude { get; set; }

    /// <summary>Restore this version of each selected secret (from a backup taken with -AllVersions) instead of the current one.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Version { get; set; }

    /// <summary>Write the backup's value over a secret that holds another one (as its next version).</summary>
    [Parameter]
    public SwitchParameter Overwrite { get; set; }

    /// <summary>Do not ask for each secret (unattended runs).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private readonly List<string> _ids = new();

    protected override void ProcessRecord()
    {
        if (Id is not null)
        {
            _ids.Add(Id);
        }
    }

    protected override void EndProcessing()
    {
        if (_ids.Count > 1)
        {
            Fail(Engine.Errors.ErrorIds.InvalidArgument, Engine.Errors.FailureKind.InvalidArgument, "Restore one secrets backup at a time; pipe the one to restore (Get-DrBackup secrets -Latest).", _ids);
        }

        using var repository = OpenRepository();
        var (plan, kv) = PlanRestore(repository, _ids.FirstOrDefault(), Destination, new SecretSelection(Path, Include, Exclude), Version, Overwrite);
        var approved = new HashSet<string>(StringComparer.Ordinal);
        foreach (var change in plan.Changes.Where(c => c.WritesValue || c.WritesMetadata))
        {
            if (ShouldProcessUnlessForced(Force, $"{plan.Target} {change.FullPath}", change.Describe()))
            {
                approved.Add(change.FullPath);
            }
        }

        var done = approved.Count == 0 ? plan.Changes.Select(c => c.WithoutDigest()).ToList() : Run(ct => SecretRestore.ApplyAsync(repository.Context, plan, kv, approved, ct));
        WriteObject(done, enumerateCollection: true);
    }
}
