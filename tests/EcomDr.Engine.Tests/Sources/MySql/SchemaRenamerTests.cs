using EcomDr.Engine.Sources.MySql.Pitr;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>Schema renaming in replayed statements and object definitions, and the GTID and statement helpers of point-in-time recovery.</summary>
public sealed class SchemaRenamerTests
{
    private static readonly Dictionary<string, string> Map = new() { ["shop"] = "shop_restore" };

    [Theory]
    [InlineData("UPDATE shop.orders SET x = 1", "UPDATE `shop_restore`.orders SET x = 1")]
    [InlineData("UPDATE `shop`.`orders` SET x = 1", "UPDATE `shop_restore`.`orders` SET x = 1")]
    [InlineData("ALTER TABLE shop . orders ADD c INT", "ALTER TABLE `shop_restore` . orders ADD c INT")]
    [InlineData("CREATE DATABASE IF NOT EXISTS shop CHARACTER SET utf8mb4", "CREATE DATABASE IF NOT EXISTS `shop_restore` CHARACTER SET utf8mb4")]
    [InlineData("DROP SCHEMA `shop`", "DROP SCHEMA `shop_restore`")]
    [InlineData("INSERT INTO shop.t VALUES ('shop.t', \"shop.x\", 'it''s shop.y')", "INSERT INTO `shop_restore`.t VALUES ('shop.t', \"shop.x\", 'it''s shop.y')")]
    [InlineData("INSERT INTO t VALUES ('a\\'shop.t')", "INSERT INTO t VALUES ('a\\'shop.t')")]
    [InlineData("SELECT 1 -- shop.t\nFROM shop.t", "SELECT 1 -- shop.t\nFROM `shop_restore`.t")]
    [InlineData("SELECT /* shop.t */ 1 FROM /*!40000 shop.t */ x", "SELECT /* shop.t */ 1 FROM /*!40000 `shop_restore`.t */ x")]
    [InlineData("UPDATE shopping.t SET shop = shop + 1.5, t.shop = 2", "UPDATE shopping.t SET shop = shop + 1.5, t.shop = 2")]
    [InlineData("SELECT DATABASE() AS shop", "SELECT DATABASE() AS shop")]
    [InlineData("CREATE VIEW v AS SELECT * FROM `shop`.`orders` `o` JOIN `other`.`t`", "CREATE VIEW v AS SELECT * FROM `shop_restore`.`orders` `o` JOIN `other`.`t`")]
    public void RenamesSchemaQualifiersAndNamesOnlyInCode(string sql, string expected) => Assert.Equal(expected, SchemaRenamer.Rename(sql, Map));

    [Fact]
    public void NamesTheSchemasAStatementTouches()
    {
        // A two-part name is taken as schema.table: t.x (table.column) is named too, which only widens what is replayed.
        Assert.Equal(new[] { "a", "b", "t" }, SchemaRenamer.Named("UPDATE a.t JOIN `b`.u SET t.x = 'c.d'").Order());
        Assert.Equal(new[] { "n" }, SchemaRenamer.Named("CREATE DATABASE n").ToArray());
        Assert.Empty(SchemaRenamer.Named("INSERT INTO t VALUES (1.5)"));
    }

    [Theory]
    [InlineData("0-1-120,1-2-7", "0-1-120", true)]
    [InlineData("0-1-120,1-2-7", "0-3-121", false)]
    [InlineData("0-1-120", "0-1-99", true)]
    [InlineData("0-1-120", "5-1-1", false)]
    [InlineData("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7", "3e11fa47-71ca-11e1-9e33-c80aa9429562:7", true)]
    [InlineData("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7", "3e11fa47-71ca-11e1-9e33-c80aa9429562:6", false)]
    [InlineData("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5", "aaaaaaaa-71ca-11e1-9e33-c80aa9429562:2", false)]
    public void AGtidIsInARecordedState(string set, string gtid, bool expected) => Assert.Equal(expected, GtidSets.Contains(set, gtid));

    [Theory]
    [InlineData("ALTER TABLE orders ADD COLUMN x INT", null, "orders", BinlogOperation.Ddl)]
    [InlineData("/* app */ DROP TABLE IF EXISTS `shop`.`old``one`", "shop", "old`one", BinlogOperation.Ddl)]
    [InlineData("DELETE FROM shop.orders WHERE id < 5", "shop", "orders", BinlogOperation.Delete)]
    [InlineData("INSERT IGNORE INTO t VALUES (1)", null, "t", BinlogOperation.Insert)]
    [InlineData("CREATE DATABASE shop", null, "", BinlogOperation.Ddl)]
    public void StatementsAreClassifiedWithTheirTable(string sql, string? schema, string table, BinlogOperation operation)
    {
        Assert.Equal((schema, table), BinlogSearch.StatementTable(sql));
        Assert.Equal(operation, BinlogSearch.Classify(sql));
        Assert.Null(BinlogSearch.Classify("BEGIN"));
    }
}
