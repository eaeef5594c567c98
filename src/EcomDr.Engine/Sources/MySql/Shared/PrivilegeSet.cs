using System.Text;
using System.Text.RegularExpressions;

namespace EcomDr.Engine.Sources.MySql.Shared;

/// <summary>
/// The privileges a user holds, asked per privilege and scope. Names that MariaDB renamed
/// (REPLICATION CLIENT became BINLOG MONITOR in 10.5) are treated as the same privilege.
/// </summary>
public sealed class PrivilegeSet
{
    private static readonly Dictionary<string, string[]> Aliases = new(StringComparer.Ordinal)
    {
        ["REPLICATION CLIENT"] = new[] { "REPLICATION CLIENT", "BINLOG MONITOR" },
        ["REPLICATION SLAVE"] = new[] { "REPLICATION SLAVE", "REPLICATION REPLICA" },
    };

    private readonly IReadOnlyList<Grant> _grants;

    public PrivilegeSet(IReadOnlyList<Grant> grants) => _grants = grants;

    public IReadOnlyList<Grant> Grants => _grants;

    /// <summary>Granted on *.* (directly or through ALL PRIVILEGES).</summary>
    public bool HasGlobal(string privilege) => _grants.Any(g => g.IsGlobal && Covers(g, privilege));

    /// <summary>Granted globally or on the whole schema (a database-level grant, wildcards honoured).</summary>
    public bool HasOnSchema(string privilege, string schema) =>
        HasGlobal(privilege) ||
        _grants.Any(g => !g.IsGlobal && g.Table == "*" && Covers(g, privilege) && SchemaPatternMatches(g.Database, schema));

    private static bool Covers(Grant grant, string privilege)
    {
        if (grant.Privileges.Contains("ALL PRIVILEGES"))
        {
            return true;
        }

        var names = Aliases.TryGetValue(privilege, out var alias) ? alias : new[] { privilege };
        return names.Any(grant.Privileges.Contains);
    }

    // Database names in grants are LIKE patterns: % and _ are wildcards unless escaped with \.
    internal static bool SchemaPatternMatches(string pattern, string schema)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                regex.Append(Regex.Escape(pattern[++i].ToString()));
            }
            else if (c == '%')
            {
                regex.Append(".*");
            }
            else if (c == '_')
            {
                regex.Append('.');
            }
            else
            {
                regex.Append(Regex.Escape(c.ToString()));
            }
        }

        return Regex.IsMatch(schema, regex.Append('$').ToString(), RegexOptions.IgnoreCase | RegexOptions.Singleline);
    }
}
