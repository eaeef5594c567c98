using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Pitr;
using EcomDr.Engine.Sources.MySql.Statements;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>
/// The structure of tables outside the restored schemas, followed through DDL for a restored table
/// created LIKE one of them: what is rebuilt, and what is refused rather than guessed. (The real
/// servers' side of it runs in the differential corpus.)
/// </summary>
public sealed class OutsideStructureTests
{
    private static readonly OutsideTable Child = new("other", "child",
        "CREATE TABLE `child` (\n  `id` int(11) NOT NULL,\n  `parent` int(11) NOT NULL,\n  PRIMARY KEY (`id`),\n  KEY `fk_parent` (`parent`),\n" +
        "  CONSTRAINT `fk_parent` FOREIGN KEY (`parent`) REFERENCES `parent` (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=latin1");

    [Theory]
    [InlineData("CREATE TABLE x LIKE other.y", "other", "y")]
    [InlineData("CREATE TABLE IF NOT EXISTS shop.x (LIKE `o t`.`y`)", "o t", "y")]
    [InlineData("CREATE OR REPLACE TABLE x LIKE y", "shop", "y")]
    public void ALikeSourceIsReadNotWritten(string sql, string schema, string table)
    {
        var analysis = StatementAnalyzer.Analyze(sql, "shop");
        Assert.Equal(new SqlObject(schema, table, SqlObjectKind.Table), analysis.LikeSource);
        Assert.Single(analysis.Writes);
        Assert.Null(StatementAnalyzer.Analyze("CREATE TABLE x (id INT)", "shop").LikeSource);
    }

    [Fact]
    public void TheRecordedStructureIsRebuiltAsATemporaryTableWithoutForeignKeysThenFollowsRenamesAndAlters()
    {
        var outside = new OutsideStructure(new[] { Child }, s => s == "shop");
        var built = Build(outside, "child");
        Assert.Equal("SET @@session.pseudo_thread_id=9", built[0]);
        Assert.StartsWith("CREATE TEMPORARY TABLE `ecomdr`.`child` (", built[1], StringComparison.Ordinal);
        Assert.DoesNotContain("FOREIGN KEY", built[1], StringComparison.Ordinal);
        Assert.Contains("KEY `fk_parent` (`parent`)\n)", built[1], StringComparison.Ordinal); // the index stays, the comma goes

        Follow(outside, "RENAME TABLE other.child TO other.kid");
        Follow(outside, "ALTER TABLE kid ADD COLUMN c INT");
        var renamed = Build(outside, "kid");
        Assert.Equal("ALTER TABLE `ecomdr`.`child` RENAME TO `ecomdr`.`kid`", renamed[2]);
        Assert.EndsWith("USE `ecomdr`; ALTER TABLE kid ADD COLUMN c INT", renamed[3], StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => Build(outside, "child")); // renamed away
    }

    [Theory]
    [InlineData("CREATE TABLE other.copy LIKE shop.t", "a restored table")]
    [InlineData("ALTER TABLE other.child RENAME TO other.copy", "does not follow")]
    [InlineData("CREATE TABLE other.copy LIKE other.unknown", "does not know")]
    public void AStructureReplayCannotFollowIsRefusedNotGuessed(string ddl, string why)
    {
        var outside = new OutsideStructure(new[] { Child }, s => s == "shop");
        Follow(outside, ddl);
        var refused = Assert.Throws<InvalidOperationException>(() => Build(outside, "copy"));
        Assert.Contains(why, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AStatementReplayCannotReadMakesTheSchemasItNamesUnknown()
    {
        var outside = new OutsideStructure(new[] { Child }, s => s == "shop");
        var sql = "FROBNICATE other.child, shop.t";
        outside.FollowUnknown(StatementAnalyzer.Analyze(sql, "other").Named, sql);
        Assert.Contains("cannot read names `other`", Assert.Throws<InvalidOperationException>(() => Build(outside, "child")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABackupThatRecordsNothingLeavesTheStatementAsLogged() =>
        Assert.Null(new OutsideStructure(null, s => s == "shop").Build(new SqlObject("other", "child", SqlObjectKind.Table), 9, why => new InvalidOperationException(why)));

    private static List<string> Build(OutsideStructure outside, string table) =>
        outside.Build(new SqlObject("other", table, SqlObjectKind.Table), 9, why => new InvalidOperationException(why))!.ToList();

    private static void Follow(OutsideStructure outside, string sql) =>
        outside.Follow(StatementAnalyzer.Analyze(sql, "other"), new QueryInfo(1, 0, 0, "other", sql, ReadOnlyMemory<byte>.Empty), 1_800_000_000, false, false);
}
