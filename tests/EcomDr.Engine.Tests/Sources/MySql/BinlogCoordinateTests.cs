using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Engine.Tests.Sources.MySql;

public sealed class BinlogCoordinateTests
{
    [Theory]
    [InlineData("binlog.000009:900", "binlog.000010:4")]        // files by their number, not as text
    [InlineData("binlog.999999:4", "binlog.1000000:4")]         // the number outgrows its width
    [InlineData("binlog.000042:4", "binlog.000042:1234")]
    [InlineData("mysql-bin.000001:4", "mysql-bin.000001:5")]
    public void OrdersFilesByNumberThenPosition(string before, string after)
    {
        var (a, b) = (BinlogCoordinate.Parse(before, "-x"), BinlogCoordinate.Parse(after, "-x"));
        Assert.True(a < b);
        Assert.True(b > a);
        Assert.True(a <= b && !(a >= b));
        Assert.True(a.CompareTo(b) < 0 && b.CompareTo(a) > 0);
        Assert.Equal(before, a.ToString());
        Assert.Equal(after, b.ToString());
    }

    [Fact]
    public void ParsesWhatTheServerPrintsAndRoundTrips()
    {
        var c = BinlogCoordinate.Parse("binlog.000042:1234", "-From");
        Assert.Equal(("binlog.000042", 1234L), (c.File, c.Position));
        Assert.Equal(c, BinlogCoordinate.Parse(c.ToString(), "-From"));
        Assert.True(c >= new BinlogCoordinate("binlog.000042", 1234));
        Assert.Equal(new BinlogCoordinate("binlog.000007", 4), BinlogCoordinate.StartOf("binlog.000007"));
    }

    [Theory]
    [InlineData("binlog.000042")]
    [InlineData("binlog.000042:")]
    [InlineData(":1234")]
    [InlineData("binlog.000042:-4")]
    [InlineData("binlog.000042:12x")]
    [InlineData("../binlog.000042:4")]
    [InlineData("banana;DROP")]
    public void RefusesWhatIsNotACoordinateWithTheParameterNamed(string text)
    {
        Assert.False(BinlogCoordinate.TryParse(text, out _));
        var ex = Assert.Throws<EcomDrException>(() => BinlogCoordinate.Parse(text, "-StopAtPosition", ErrorIds.InvalidStopPoint));
        Assert.Equal((ErrorIds.InvalidStopPoint, FailureKind.InvalidArgument), (ex.ErrorId, ex.Kind));
        Assert.StartsWith($"-StopAtPosition '{text}' is not file:position", ex.Message);
    }
}
