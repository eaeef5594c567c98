namespace EcomDr.TestKit.Shop;

/// <summary>
/// A moment of the shop with no transaction in flight: where the binlog stood, when, and what every
/// table held. Backups and point-in-time restores are proved exact against these.
/// </summary>
public sealed record ShopCheckpoint(
    DateTime UtcTime,
    string GtidPosition,
    string BinlogFile,
    long BinlogPosition,
    long LastOrderId,
    IReadOnlyDictionary<string, string> TableChecksums,
    IReadOnlyDictionary<string, long> RowCounts);
