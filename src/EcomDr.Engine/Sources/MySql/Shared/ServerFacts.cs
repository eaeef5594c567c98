using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Shared;

/// <summary>
/// What a server says about itself, read once: flavor, version, the variables EcomDr cares about,
/// the current user's grants and its schemas. Checks are computed from this without I/O.
/// </summary>
public sealed class ServerFacts
{
    internal static readonly string[] VariableNames =
    {
        "version", "version_comment", "server_id", "log_bin", "binlog_format", "binlog_row_image",
        "gtid_mode", "enforce_gtid_consistency", "gtid_executed", "gtid_binlog_pos", "gtid_strict_mode",
        "gtid_domain_id", "binlog_expire_logs_seconds", "expire_logs_days", "local_infile", "time_zone",
        "system_time_zone", "max_allowed_packet", "hostname", "datadir", "sync_binlog", "innodb_flush_log_at_trx_commit",
    };

    private static readonly HashSet<string> SystemSchemas = new(StringComparer.OrdinalIgnoreCase)
    {
        "mysql", "information_schema", "performance_schema", "sys",
    };

    public ServerFacts(string versionText, IReadOnlyDictionary<string, string> variables, string currentUser,
        IReadOnlyList<string> grantLines, IReadOnlyList<string> userSchemas)
    {
        VersionText = versionText;
        Flavor = versionText.Contains("MariaDB", StringComparison.OrdinalIgnoreCase) ? ServerFlavor.MariaDb : ServerFlavor.MySql;
        Version = ParseVersion(versionText);
        Variables = variables;
        CurrentUser = currentUser;
        Grants = GrantParser.ParseAll(grantLines);
        UserSchemas = userSchemas;
    }

    public ServerFlavor Flavor { get; }

    public Version Version { get; }

    public string VersionText { get; }

    public IReadOnlyDictionary<string, string> Variables { get; }

    public string CurrentUser { get; }

    public PrivilegeSet Grants { get; }

    /// <summary>Non-system schemas visible to the user.</summary>
    public IReadOnlyList<string> UserSchemas { get; }

    public string? Variable(string name) => Variables.TryGetValue(name, out var v) ? v : null;

    public static async Task<ServerFacts> ReadAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        var variables = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var inList = string.Join(",", VariableNames.Select(n => $"'{n}'"));
        await using (var cmd = new MySqlCommand($"SHOW GLOBAL VARIABLES WHERE Variable_name IN ({inList})", connection))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                variables[reader.GetString(0)] = reader.IsDBNull(1) ? string.Empty : reader.GetString(1);
            }
        }

        var currentUser = await Sql.ScalarAsync(connection, "SELECT CURRENT_USER()", cancellationToken).ConfigureAwait(false);
        var grants = await Sql.ColumnAsync(connection, "SHOW GRANTS FOR CURRENT_USER()", cancellationToken).ConfigureAwait(false);
        var schemas = (await Sql.ColumnAsync(connection, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME",
                cancellationToken).ConfigureAwait(false))
            .Where(s => !SystemSchemas.Contains(s)).ToList();
        return new ServerFacts(variables.GetValueOrDefault("version", ""), variables, currentUser, grants, schemas);
    }

    internal static Version ParseVersion(string text)
    {
        var digits = new string(text.TakeWhile(c => char.IsDigit(c) || c == '.').ToArray()).Trim('.');
        return System.Version.TryParse(digits.Count(c => c == '.') == 0 ? digits + ".0" : digits, out var v) ? v : new Version(0, 0);
    }
}
