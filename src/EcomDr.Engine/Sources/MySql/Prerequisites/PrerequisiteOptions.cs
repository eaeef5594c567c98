namespace EcomDr.Engine.Sources.MySql.Prerequisites;

/// <summary>
/// What the checks compare against: the role (Backup: a source that is backed up and shipped;
/// Restore: a server restored into, point-in-time recovered and swapped on), the shipping schedule,
/// and the schemas backed up or restored into.
/// </summary>
public sealed record PrerequisiteOptions(
    int BinlogShipIntervalMinutes = 15,
    int BinlogExpiryMarginHours = 24,
    IReadOnlyList<string>? Schemas = null,
    string Role = PrerequisiteOptions.BackupRole)
{
    public const string BackupRole = "Backup";
    public const string RestoreRole = "Restore";

    public TimeSpan RequiredBinlogRetention =>
        TimeSpan.FromMinutes(BinlogShipIntervalMinutes) + TimeSpan.FromHours(BinlogExpiryMarginHours);
}
