namespace EcomDr.Engine.Prerequisites;

/// <summary>What the checks compare against: the shipping schedule and the schemas backed up.</summary>
public sealed record PrerequisiteOptions(
    int BinlogShipIntervalMinutes = 15,
    int BinlogExpiryMarginHours = 24,
    IReadOnlyList<string>? Schemas = null)
{
    public TimeSpan RequiredBinlogRetention =>
        TimeSpan.FromMinutes(BinlogShipIntervalMinutes) + TimeSpan.FromHours(BinlogExpiryMarginHours);
}
