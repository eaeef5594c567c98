namespace EcomDr.TestKit.Servers;

/// <summary>How a throwaway MariaDB is configured. The defaults are what EcomDr expects of a source.</summary>
public sealed record MariaDbOptions
{
    public bool LogBin { get; init; } = true;

    public string BinlogFormat { get; init; } = "ROW";

    public int ServerId { get; init; } = 1;

    /// <summary>GTID domain; give a restore target its own so its GTIDs never collide with the source's.</summary>
    public int GtidDomainId { get; init; }

    public string TimeZone { get; init; } = "+00:00";

    public string? MaxAllowedPacket { get; init; }

    /// <summary>gtid_strict_mode with the binlog on; EcomDr must work under it on and off.</summary>
    public bool GtidStrictMode { get; init; } = true;

    public IReadOnlyList<string> ExtraArguments { get; init; } = Array.Empty<string>();
}
