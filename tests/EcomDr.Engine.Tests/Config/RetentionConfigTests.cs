using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Tests.Config;

/// <summary>The retention block: defaults per kind, store overrides, and each bad value refused naming its field.</summary>
public sealed class RetentionConfigTests
{
    private static string File(string retention) => $$"""
        {
          "schemaVersion": 1,
          "environments": {
            "prod": {
              "mysql": { "server": "db1" },
              "repositories": { "primary": { "path": "/r" }, "offsite": { "path": "/o" } },
              "keys": [ { "path": "/k" } ],
              "retention": {{retention}}
            }
          }
        }
        """;

    [Fact]
    public void A_kind_it_names_changes_that_kind_and_a_store_overrides_the_environment()
    {
        var env = ConfigLoader.Parse(File("""{ "kinds": { "docs": { "keepDays": 30, "gfs": { "months": 12 } } }, "stores": { "offsite": { "minFull": 4, "kinds": { "mysql-full": { "keepDays": 35 } } } } }"""), "/etc/r.json")
            .GetEnvironment("prod");
        Assert.Equal((30, 12), (env.Retentions.Kinds["docs"].KeepDays, env.Retentions.Kinds["docs"].Gfs!.Months));
        Assert.Equal(183, env.Retentions.Kinds["secrets"].KeepDays);
        Assert.Equal((2, 7), (env.Retentions.ForStore("primary").MinFull, env.Retentions.ForStore("primary").Kinds["mysql-full"].KeepDays));
        Assert.Equal((4, 35, 30), (env.Retentions.ForStore("offsite").MinFull, env.Retentions.ForStore("offsite").Kinds["mysql-full"].KeepDays,
            env.Retentions.ForStore("offsite").Kinds["docs"].KeepDays));
    }

    [Theory]
    [InlineData("""{ "kinds": { "docs": { "keepDays": 0 } } }""", "retention.kinds.docs.keepDays")]
    [InlineData("""{ "kinds": { "docs": { "keepDays": -3 } } }""", "retention.kinds.docs.keepDays")]
    [InlineData("""{ "kinds": { "mysql-ful": { "keepDays": 7 } } }""", "retention.kinds.mysql-ful")]
    [InlineData("""{ "minFull": 0 }""", "retention.minFull")]
    [InlineData("""{ "stores": { "tape": { "minFull": 3 } } }""", "retention.stores.tape")]
    [InlineData("""{ "stores": { "offsite": { "kinds": { "binlog": { "keepDays": 7 } } } } }""", "retention.stores.offsite.kinds.binlog")]
    [InlineData("""{ "kinds": { "docs": { "keepDays": 7, "gfs": { "weeks": -1 } } } }""", "retention.kinds.docs.gfs.weeks")]
    public void A_bad_value_is_a_configuration_error_naming_the_field(string retention, string field)
    {
        var ex = Assert.Throws<EcomDrException>(() => ConfigLoader.Parse(File(retention), "/etc/r.json"));
        Assert.Equal(ErrorIds.ConfigInvalid, ex.ErrorId);
        Assert.Contains($"environments.prod.{field}", ex.Message, StringComparison.Ordinal);
    }
}
