using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Pitr;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>The stop point a found event gives (the choice the engine makes, not the cmdlet).</summary>
public sealed class StopPointTests
{
    private static FoundBinlogEvent Found(string gtid) =>
        new(DateTimeOffset.UnixEpoch, gtid, "binlog.000003", 1500, 1200, "shop", "orders", BinlogOperation.Delete, 42, null);

    [Theory]
    [InlineData("0-1-57")]
    [InlineData("3e11fa47-71ca-11e1-9e33-c80aa9429562:23")]
    public void AnEventWithAGtidStopsBeforeThatGtid(string gtid)
    {
        var options = new PitrOptions(TargetTime: DateTimeOffset.UtcNow, StopAtPosition: new BinlogCoordinate("binlog.000001", 4)).StoppingBefore(Found(gtid));
        Assert.Equal((gtid, (BinlogCoordinate?)null, (DateTimeOffset?)null), (options.StopBeforeGtid, options.StopAtPosition, options.TargetTime));
        Assert.Equal($"right before GTID {gtid}", options.Describe());
    }

    [Theory]
    [InlineData("")]
    [InlineData("ANONYMOUS")]
    public void AnEventWithoutAGtidStopsWhereItsTransactionStarts(string gtid)
    {
        var options = new PitrOptions(StopBeforeGtid: "0-1-1").StoppingBefore(Found(gtid));
        Assert.Null(options.StopBeforeGtid);
        Assert.Equal(new BinlogCoordinate("binlog.000003", 1200), options.StopAtPosition);
        Assert.Equal("the last transaction ending at or before binlog.000003:1200", options.Describe());
    }
}
