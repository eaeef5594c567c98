using EcomDr.Engine.Sources.MySql.Load;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>Which keys a restore builds after the load (the DDL shapes SHOW CREATE TABLE prints).</summary>
public sealed class DeferredKeysTests
{
    [Fact]
    public void PlainAndForeignKeysMoveAfterTheLoadPrimaryUniqueAndAutoIncrementKeysStay()
    {
        const string ddl = """
            CREATE TABLE `t` (
              `seq` int(11) NOT NULL AUTO_INCREMENT,
              `id` bigint(20) NOT NULL,
              `order_id` bigint(20) NOT NULL,
              `body` text DEFAULT NULL,
              `g` point NOT NULL,
              PRIMARY KEY (`id`),
              UNIQUE KEY `uq_order` (`order_id`,`id`),
              KEY `ix_seq` (`seq`),
              KEY `ix_order` (`order_id`),
              FULLTEXT KEY `ft_body` (`body`),
              SPATIAL KEY `sp_g` (`g`),
              CONSTRAINT `fk_order` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`) ON DELETE CASCADE
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
            """;
        var split = DeferredKeys.Apply(ddl);
        Assert.Equal(2, split.Deferred);
        Assert.Equal("ADD KEY `ix_order` (`order_id`), ADD CONSTRAINT `fk_order` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`) ON DELETE CASCADE", split.AlterClauses);
        Assert.Equal("ADD KEY `ix_order` (`order_id`)", split.KeyClauses);
        Assert.Equal(1, split.KeyCount);
        Assert.Equal("ADD CONSTRAINT `fk_order` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`) ON DELETE CASCADE", split.ForeignKeyClauses);
        Assert.Equal("""
            CREATE TABLE `t` (
              `seq` int(11) NOT NULL AUTO_INCREMENT,
              `id` bigint(20) NOT NULL,
              `order_id` bigint(20) NOT NULL,
              `body` text DEFAULT NULL,
              `g` point NOT NULL,
              PRIMARY KEY (`id`),
              UNIQUE KEY `uq_order` (`order_id`,`id`),
              KEY `ix_seq` (`seq`),
              FULLTEXT KEY `ft_body` (`body`),
              SPATIAL KEY `sp_g` (`g`)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
            """, split.CreateTable);
    }

    [Fact]
    public void ATableWithNothingToDeferIsLeftAsItIs()
    {
        const string ddl = "CREATE TABLE `a` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB";
        Assert.Equal(new DeferredKeys.Split(ddl, null, 0), DeferredKeys.Apply(ddl));
    }
}
