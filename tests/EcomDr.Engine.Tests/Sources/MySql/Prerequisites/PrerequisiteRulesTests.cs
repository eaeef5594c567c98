using EcomDr.Engine.Sources.MySql.Prerequisites;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Tests.Sources.MySql.Prerequisites;

/// <summary>
/// Rules judged on facts as MySQL 8.4 and 5.7 report them. No MySQL server runs here: these facts are
/// written from MySQL's documentation (variable names and values, SHOW GRANTS layout); the live
/// check is <see cref="PrerequisiteCheckerTests.Live_MySql84_FromEcomdrTestMysql"/>.
/// </summary>
public class PrerequisiteRulesTests
{
    private static Dictionary<string, string> MySql84Variables() => new(StringComparer.OrdinalIgnoreCase)
    {
        ["version"] = "8.4.3", ["version_comment"] = "MySQL Community Server - GPL", ["server_id"] = "1", ["log_bin"] = "ON",
        ["binlog_format"] = "ROW", ["binlog_row_image"] = "FULL", ["gtid_mode"] = "ON", ["enforce_gtid_consistency"] = "ON",
        ["binlog_expire_logs_seconds"] = "2592000", ["local_infile"] = "OFF", ["time_zone"] = "SYSTEM", ["system_time_zone"] = "UTC",
    };

    private static readonly string[] MySql84Grants =
    {
        "GRANT SELECT, RELOAD, LOCK TABLES, REPLICATION SLAVE, REPLICATION CLIENT, SHOW VIEW, EVENT, TRIGGER ON *.* TO `bk`@`%`",
        "GRANT BACKUP_ADMIN ON *.* TO `bk`@`%`",
    };

    private static IReadOnlyList<PrerequisiteResult> Evaluate(Dictionary<string, string> variables, string[] grants, PrerequisiteOptions? options = null) =>
        PrerequisiteRules.Evaluate("db:3306", new ServerFacts(variables["version"], variables, "bk@%", grants, new[] { "ecommerce" }),
            options ?? new PrerequisiteOptions());

    private static string[] NotPassing(IReadOnlyList<PrerequisiteResult> results) =>
        results.Where(r => r.Status != CheckStatus.Pass).Select(r => $"{r.Check}:{r.Status}").ToArray();

    [Fact]
    public void MySql84SimulatedFacts_WellConfiguredPassesExceptLocalInfileWarning()
    {
        var results = Evaluate(MySql84Variables(), MySql84Grants);
        Assert.Equal(new[] { "LocalInfile:Warn" }, NotPassing(results));
        Assert.Contains(results, r => r.Check == "Privilege.BackupAdmin" && r.Status == CheckStatus.Pass);
        Assert.Equal("MySQL 8.4.3", results.Single(r => r.Check == "ServerVersion").Observed);
        Assert.All(results.Where(r => r.Status == CheckStatus.Pass), r => Assert.Equal("", r.Remediation));
    }

    [Fact]
    public void MySql84SimulatedFacts_GtidOffExpiryShortAndNoBackupAdminFail()
    {
        var v = MySql84Variables();
        v["gtid_mode"] = "OFF";
        v["binlog_expire_logs_seconds"] = "3600";
        v["binlog_row_image"] = "MINIMAL";
        v["local_infile"] = "ON";
        var results = Evaluate(v, MySql84Grants.Take(1).ToArray());
        Assert.Equal(new[] { "BinlogRowImage:Fail", "Gtid:Fail", "BinlogExpiry:Fail", "Privilege.BackupAdmin:Fail" }, NotPassing(results));
        var expiry = results.Single(r => r.Check == "BinlogExpiry");
        Assert.Equal("1 h", expiry.Observed);
        Assert.Contains("binlog_expire_logs_seconds to at least 87300", expiry.Remediation);
        Assert.Contains("GRANT BACKUP_ADMIN ON *.* TO bk@%", results.Single(r => r.Check == "Privilege.BackupAdmin").Remediation);
    }

    [Fact]
    public void MySql57SimulatedFacts_WarnsOnVersionAndDoesNotAskForBackupAdmin()
    {
        var v = MySql84Variables();
        v["version"] = "5.7.40-log";
        v["local_infile"] = "ON";
        v["gtid_mode"] = "ON_PERMISSIVE";
        var results = Evaluate(v, MySql84Grants.Take(1).ToArray());
        Assert.Equal(new[] { "ServerVersion:Warn", "Gtid:Warn" }, NotPassing(results));
        Assert.DoesNotContain(results, r => r.Check == "Privilege.BackupAdmin");
    }

    [Fact]
    public void SchemaPrivilegesAreJudgedPerSelectedSchema()
    {
        var grants = new[]
        {
            "GRANT RELOAD, REPLICATION SLAVE, REPLICATION CLIENT, BACKUP_ADMIN ON *.* TO `bk`@`%`",
            "GRANT SELECT, LOCK TABLES, SHOW VIEW, EVENT, TRIGGER ON `ecommerce`.* TO `bk`@`%`",
        };
        var v = MySql84Variables();
        v["local_infile"] = "ON";
        Assert.Empty(NotPassing(Evaluate(v, grants, new PrerequisiteOptions(Schemas: new[] { "ecommerce" }))));
        var other = Evaluate(v, grants, new PrerequisiteOptions(Schemas: new[] { "ecommerce", "crm" }));
        Assert.Equal(5, other.Count(r => r.Status == CheckStatus.Fail));
        Assert.Equal("missing on crm", other.Single(r => r.Check == "Privilege.Select").Observed);
    }

    [Fact]
    public void LocalTimeZoneWarnsAndZeroExpiryMeansNever()
    {
        var v = MySql84Variables();
        v["time_zone"] = "America/Sao_Paulo";
        v["binlog_expire_logs_seconds"] = "0";
        v["local_infile"] = "ON";
        var results = Evaluate(v, MySql84Grants);
        Assert.Equal(new[] { "TimeZone:Warn" }, NotPassing(results));
        Assert.StartsWith("never", results.Single(r => r.Check == "BinlogExpiry").Observed);
    }
}
