using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Tests.Sources.MySql;

public class GrantParserTests
{
    [Fact]
    public void MariaDbLineWithPasswordHashKeepsOnlyPrivileges()
    {
        var grant = GrantParser.Parse("GRANT SELECT, RELOAD, LOCK TABLES, REPLICATION SLAVE, BINLOG MONITOR, SHOW VIEW, EVENT, TRIGGER ON *.* TO `bk`@`%` IDENTIFIED BY PASSWORD '*D821809F681A40A6E379B50D0463EFAE20BDD122'")!;
        Assert.True(grant.IsGlobal);
        Assert.Equal(new[] { "BINLOG MONITOR", "EVENT", "LOCK TABLES", "RELOAD", "REPLICATION SLAVE", "SELECT", "SHOW VIEW", "TRIGGER" },
            grant.Privileges.Order());
        Assert.DoesNotContain("D821809F", string.Join(" ", grant.Privileges) + grant.Database + grant.Table);
    }

    [Fact]
    public void MySql8DynamicPrivilegesAndAll()
    {
        var set = GrantParser.ParseAll(new[]
        {
            "GRANT SELECT, RELOAD, LOCK TABLES, REPLICATION SLAVE, REPLICATION CLIENT, SHOW VIEW, EVENT, TRIGGER ON *.* TO `bk`@`%`",
            "GRANT BACKUP_ADMIN,REPLICATION_SLAVE_ADMIN ON *.* TO `bk`@`%`",
            "GRANT `dr_role`@`%` TO `bk`@`%`",
        });
        Assert.True(set.HasGlobal("BACKUP_ADMIN"));
        Assert.True(set.HasGlobal("REPLICATION CLIENT"));
        Assert.False(set.HasGlobal("SUPER"));
        Assert.Equal(2, set.Grants.Count);

        var root = GrantParser.ParseAll(new[] { "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION", "GRANT PROXY ON ''@'' TO 'root'@'localhost' WITH GRANT OPTION" });
        Assert.True(root.HasGlobal("REPLICATION SLAVE"));
        Assert.Single(root.Grants);
    }

    [Fact]
    public void SchemaGrantsHonourWildcardsEscapesAndColumnLists()
    {
        var set = GrantParser.ParseAll(new[]
        {
            "GRANT RELOAD ON *.* TO `b2`@`%`",
            "GRANT SELECT, SHOW VIEW ON `ecom\\_%`.* TO `b2`@`%`",
            "GRANT SELECT (`id`, `email`), INSERT ON `crm`.`customers` TO `b2`@`%`",
            "GRANT EVENT ON `shop`.* TO `b2`@`%`",
        });
        Assert.True(set.HasOnSchema("SELECT", "ecom_prod"));
        Assert.False(set.HasOnSchema("SELECT", "ecomXprod"));
        Assert.False(set.HasOnSchema("SELECT", "crm"));
        Assert.True(set.HasOnSchema("EVENT", "shop"));
        Assert.False(set.HasGlobal("SELECT"));
        Assert.True(set.HasGlobal("RELOAD"));
        Assert.Contains(set.Grants, g => g.Table == "customers" && g.Privileges.Contains("SELECT") && g.Privileges.Contains("INSERT"));
    }

    [Fact]
    public void MariaDbRenamedReplicationClientCounts()
    {
        var set = GrantParser.ParseAll(new[] { "GRANT BINLOG MONITOR ON *.* TO `x`@`%`" });
        Assert.True(set.HasGlobal("REPLICATION CLIENT"));
        Assert.False(set.HasGlobal("REPLICATION SLAVE"));
    }
}
