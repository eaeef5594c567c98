using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Commands;

/// <summary>Lists the backups of an environment from the repository itself.</summary>
[Cmdlet(VerbsCommon.Get, "DrBackup")]
[OutputType(typeof(BackupInfo))]
public sealed class GetDrBackupCommand : RepositoryCmdlet
{
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.BackupKindCompleter))]
    public string[]? Kind { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.BackupIdCompleter))]
    public string? Id { get; set; }

    /// <summary>Only the newest backup of each kind.</summary>
    [Parameter]
    public SwitchParameter Latest { get; set; }

    /// <summary>Only backups started before this time.</summary>
    [Parameter]
    public DateTime? Before { get; set; }

    /// <summary>Also show incomplete and invalid backups (never restorable).</summary>
    [Parameter]
    public SwitchParameter IncludeIncomplete { get; set; }

    protected override void EndProcessing()
    {
        using var repository = OpenRepository();
        var all = Run(ct => BackupCatalog.ListAsync(repository.Context, Kind is { Length: 1 } ? Kind[0] : null, ct));
        IEnumerable<BackupInfo> selected = all.Where(b => Kind is null || Kind.Contains(b.Kind, StringComparer.OrdinalIgnoreCase));
        foreach (var unusable in all.Where(b => b.Status == BackupStatus.Invalid))
        {
            WriteWarning($"Backup {unusable.Kind}/{unusable.Id} in {unusable.Store} is invalid: {unusable.Problem}");
        }

        if (!IncludeIncomplete)
        {
            selected = selected.Where(b => b.Status == BackupStatus.Complete);
        }

        if (Id is not null)
        {
            selected = selected.Where(b => b.Id == Id);
        }

        if (Before is { } before)
        {
            var limit = before.Kind == DateTimeKind.Unspecified ? new DateTimeOffset(before, TimeZoneInfo.Local.GetUtcOffset(before)) : new DateTimeOffset(before);
            selected = selected.Where(b => b.Created < limit);
        }

        if (Latest)
        {
            selected = selected.GroupBy(b => b.Kind).Select(g => g.OrderBy(b => b.Created).ThenBy(b => b.Id, StringComparer.Ordinal).Last());
        }

        var results = selected.OrderBy(b => b.Created).ThenBy(b => b.Id, StringComparer.Ordinal).ToList();
        if (Id is not null && results.Count == 0)
        {
            WriteError(ErrorRecords.From(new EcomDr.Engine.Errors.EcomDrException(EcomDr.Engine.Errors.ErrorIds.BackupNotFound,
                EcomDr.Engine.Errors.FailureKind.ObjectNotFound,
                $"No {(IncludeIncomplete ? "" : "complete ")}backup '{Id}' in {repository.Context.Store.Location} for environment '{repository.Context.Environment}'.", Id)));
        }

        WriteObject(results, enumerateCollection: true);
    }
}
