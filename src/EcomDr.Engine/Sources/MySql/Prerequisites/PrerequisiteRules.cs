using System.Globalization;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Sources.MySql.Prerequisites;

/// <summary>
/// Judges a server's facts against what backup, binlog shipping and point-in-time recovery need.
/// Pure: no I/O, so every rule is tested for both flavors without a live server.
/// </summary>
public static class PrerequisiteRules
{
    private static readonly HashSet<string> UtcNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "UTC", "+00:00", "Etc/UTC", "GMT", "Etc/GMT", "UCT", "Etc/UCT", "Universal", "Zulu", "Z",
    };

    public static IReadOnlyList<PrerequisiteResult> Evaluate(string server, ServerFacts facts, PrerequisiteOptions options)
    {
        var results = new List<PrerequisiteResult>();
        void Add(string check, CheckStatus status, string observed, string expected, string remediation) =>
            results.Add(new PrerequisiteResult(server, check, status, observed, expected, status == CheckStatus.Pass ? "" : remediation));

        var mariaDb = facts.Flavor == ServerFlavor.MariaDb;
        var configFile = mariaDb ? "the [mariadbd] section of the server's option file" : "the [mysqld] section of my.cnf";

        // Version
        var (versionStatus, versionExpected) = mariaDb
            ? (facts.Version >= new Version(10, 5) ? CheckStatus.Pass : CheckStatus.Fail, "MariaDB 10.5 or later")
            : facts.Version >= new Version(8, 0) ? (CheckStatus.Pass, "MySQL 8.0 or later (8.4 LTS)")
            : facts.Version >= new Version(5, 7) ? (CheckStatus.Warn, "MySQL 8.0 or later (8.4 LTS)")
            : (CheckStatus.Fail, "MySQL 8.0 or later (8.4 LTS)");
        Add("ServerVersion", versionStatus, $"{(mariaDb ? "MariaDB" : "MySQL")} {facts.Version}", versionExpected,
            "Upgrade the server; older versions lack the binlog and backup-lock features EcomDr relies on.");
        if (options.Role == PrerequisiteOptions.RestoreRole)
        {
            AddRestore(facts, options, mariaDb, configFile, Add);
            return results;
        }

        var logBin = facts.Variable("log_bin") ?? "";
        Add("LogBin", IsOn(logBin) ? CheckStatus.Pass : CheckStatus.Fail, Show(logBin), "ON",
            $"Enable the binary log: set log_bin (e.g. log-bin=binlog) in {configFile} and restart. Without it there is no point-in-time recovery.");

        var format = facts.Variable("binlog_format") ?? "";
        Add("BinlogFormat", Eq(format, "ROW") ? CheckStatus.Pass : CheckStatus.Fail, Show(format), "ROW",
            $"Set binlog_format=ROW in {configFile} (SET GLOBAL binlog_format='ROW' affects new sessions only). STATEMENT/MIXED binlogs cannot be replayed exactly or filtered per table.");

        var rowImage = facts.Variable("binlog_row_image") ?? "";
        Add("BinlogRowImage", Eq(rowImage, "FULL") ? CheckStatus.Pass : CheckStatus.Fail, Show(rowImage), "FULL",
            $"Set binlog_row_image=FULL in {configFile}: MINIMAL images cannot show or undo what a deleted or updated row held.");

        AddGtid(facts, mariaDb, configFile, Add);

        var serverId = facts.Variable("server_id") ?? "";
        Add("ServerId", long.TryParse(serverId, out var id) && id > 0 ? CheckStatus.Pass : CheckStatus.Fail, Show(serverId),
            "a non-zero id, unique in the topology",
            $"Set server_id to a unique non-zero number in {configFile}; a binlog source with id 0 refuses replica connections.");

        AddBinlogExpiry(facts, options, configFile, Add);

        AddLocalInfileAndZone(facts, configFile, "Point-in-time targets are given in UTC; a local zone makes TIMESTAMP values and -StopAt times ambiguous around DST changes.", Add);

        AddPrivileges(facts, options, Add);
        return results;
    }

    private static void AddGtid(ServerFacts facts, bool mariaDb, string configFile,
        Action<string, CheckStatus, string, string, string> add)
    {
        if (mariaDb)
        {
            // MariaDB always writes GTIDs; strict mode only guards against out-of-order sequences.
            var position = facts.Variable("gtid_binlog_pos") ?? "";
            add("Gtid", CheckStatus.Pass,
                $"domain {Show(facts.Variable("gtid_domain_id") ?? "")}, gtid_binlog_pos '{position}', strict {Show(facts.Variable("gtid_strict_mode") ?? "")}",
                "GTIDs (always on in MariaDB)", "");
            return;
        }

        var mode = facts.Variable("gtid_mode") ?? "";
        var enforce = facts.Variable("enforce_gtid_consistency") ?? "";
        var status = Eq(mode, "ON") && Eq(enforce, "ON") ? CheckStatus.Pass
            : mode.Contains("PERMISSIVE", StringComparison.OrdinalIgnoreCase) ? CheckStatus.Warn
            : CheckStatus.Fail;
        add("Gtid", status, $"gtid_mode={Show(mode)}, enforce_gtid_consistency={Show(enforce)}", "gtid_mode=ON, enforce_gtid_consistency=ON",
            $"Set gtid_mode=ON and enforce_gtid_consistency=ON in {configFile} (online: step gtid_mode through OFF_PERMISSIVE and ON_PERMISSIVE). PITR to an exact transaction uses GTIDs.");
    }

    private static void AddBinlogExpiry(ServerFacts facts, PrerequisiteOptions options, string configFile,
        Action<string, CheckStatus, string, string, string> add)
    {
        var seconds = ParseLong(facts.Variable("binlog_expire_logs_seconds"));
        if (seconds == 0 && double.TryParse(facts.Variable("expire_logs_days"), NumberStyles.Float, CultureInfo.InvariantCulture, out var days))
        {
            seconds = (long)(days * 86_400);
        }

        var required = options.RequiredBinlogRetention;
        var expected = $"at least {Format(required)} (shipping every {options.BinlogShipIntervalMinutes} min + {options.BinlogExpiryMarginHours} h margin)";
        if (seconds == 0)
        {
            add("BinlogExpiry", CheckStatus.Pass, "never (binlogs kept until purged)", expected, "");
            return;
        }

        var retention = TimeSpan.FromSeconds(seconds);
        add("BinlogExpiry", retention >= required ? CheckStatus.Pass : CheckStatus.Fail, Format(retention), expected,
            $"Set binlog_expire_logs_seconds to at least {(long)required.TotalSeconds} in {configFile}: a binlog purged before it is shipped is a hole in point-in-time recovery.");
    }

    private static void AddPrivileges(ServerFacts facts, PrerequisiteOptions options,
        Action<string, CheckStatus, string, string, string> add)
    {
        var schemas = options.Schemas is { Count: > 0 } selected ? selected : facts.UserSchemas;
        var requirements = facts.Flavor == ServerFlavor.MySql && facts.Version >= new Version(8, 0)
            ? PrivilegeRequirement.Common.Append(PrivilegeRequirement.BackupAdmin)
            : PrivilegeRequirement.Common;

        foreach (var req in requirements)
        {
            bool held;
            string observed;
            if (req.GlobalOnly || schemas.Count == 0)
            {
                held = facts.Grants.HasGlobal(req.Privilege);
                observed = held ? "granted on *.*" : "not granted on *.*";
            }
            else
            {
                var missing = schemas.Where(s => !facts.Grants.HasOnSchema(req.Privilege, s)).ToList();
                held = missing.Count == 0;
                observed = held ? $"granted on {string.Join(", ", schemas)}" : $"missing on {string.Join(", ", missing)}";
            }

            var scope = req.GlobalOnly || schemas.Count == 0 ? "*.*" : string.Join(", ", schemas.Select(s => $"`{s}`.*"));
            add(req.CheckName, held ? CheckStatus.Pass : CheckStatus.Fail, observed,
                $"{req.Privilege} on {(req.GlobalOnly ? "*.*" : "the backed-up schemas")}",
                $"GRANT {req.Privilege} ON {(req.GlobalOnly ? "*.*" : scope)} TO {facts.CurrentUser}; -- {req.Why}");
        }
    }

    private static void AddLocalInfileAndZone(ServerFacts facts, string configFile, string zoneWhy, Action<string, CheckStatus, string, string, string> add)
    {
        var localInfile = facts.Variable("local_infile") ?? "";
        add("LocalInfile", IsOn(localInfile) ? CheckStatus.Pass : CheckStatus.Warn, Show(localInfile), "ON on restore targets",
            "Restores fall back to multi-row INSERT without it (slower). SET GLOBAL local_infile=ON on servers you restore into.");
        var zone = facts.Variable("time_zone") ?? "";
        var effectiveZone = Eq(zone, "SYSTEM") ? facts.Variable("system_time_zone") ?? "" : zone;
        add("TimeZone", UtcNames.Contains(effectiveZone) ? CheckStatus.Pass : CheckStatus.Warn,
            Eq(zone, "SYSTEM") ? $"SYSTEM ({Show(effectiveZone)})" : Show(zone), "UTC",
            $"Set default-time-zone='+00:00' in {configFile}. {zoneWhy}");
    }

    /// <summary>A restore target: what Restore-MySqlDatabase, Restore-MySqlPitr and Switch-MySqlSchema need there (docs/configuration.md, "Privileges").</summary>
    private static void AddRestore(ServerFacts facts, PrerequisiteOptions options, bool mariaDb, string configFile,
        Action<string, CheckStatus, string, string, string> add)
    {
        AddLocalInfileAndZone(facts, configFile, "As on the source: replayed TIMESTAMP values are written in the session's zone.", add);

        var schemas = options.Schemas is { Count: > 0 } selected ? selected : Array.Empty<string>();
        var requirements = PrivilegeRequirement.Restore
            .Append(mariaDb ? PrivilegeRequirement.ReplayMariaDb : PrivilegeRequirement.ReplayMySql)
            .Append(mariaDb ? PrivilegeRequirement.BinlogAdminMariaDb : PrivilegeRequirement.BinlogAdminMySql);
        foreach (var req in requirements)
        {
            var names = new[] { req.Privilege }.Concat(req.Alternatives ?? Array.Empty<string>()).ToList();
            var targets = req.Schema is { } own ? new[] { own } : schemas;
            bool held;
            string observed;
            if (req.GlobalOnly || targets.Count == 0)
            {
                held = names.Any(facts.Grants.HasGlobal);
                observed = held ? "granted on *.*" : "not granted on *.*";
            }
            else
            {
                var missing = targets.Where(s => !names.Any(n => facts.Grants.HasOnSchema(n, s))).ToList();
                held = missing.Count == 0;
                observed = held ? $"granted on {string.Join(", ", targets)}" : $"missing on {string.Join(", ", missing)}";
            }

            var scope = req.GlobalOnly || targets.Count == 0 ? "*.*" : string.Join(", ", targets.Select(s => $"`{s.Replace("`", "``", StringComparison.Ordinal)}`.*"));
            var grant = req.Schema is not null ? "CREATE, INSERT, UPDATE, SELECT, DROP" : req.Privilege;
            add(req.CheckName, held ? CheckStatus.Pass : req.Optional ? CheckStatus.Warn : CheckStatus.Fail, observed,
                $"{string.Join(" or ", names)} on {(req.GlobalOnly ? "*.*" : req.Schema is { } s2 ? $"`{s2}`.*" : "the target schemas")}",
                $"GRANT {grant} ON {scope} TO {facts.CurrentUser}; -- {req.Why}");
        }
    }

    private static bool IsOn(string value) => Eq(value, "ON") || value == "1";

    private static bool Eq(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private static string Show(string value) => value.Length == 0 ? "(not set)" : value;

    private static long ParseLong(string? value) => long.TryParse(value, out var n) ? n : 0;

    private static string Format(TimeSpan span) =>
        span.TotalDays >= 1 ? $"{span.TotalDays:0.##} days" : span.TotalHours >= 1 ? $"{span.TotalHours:0.##} h" : $"{span.TotalMinutes:0} min";
}
