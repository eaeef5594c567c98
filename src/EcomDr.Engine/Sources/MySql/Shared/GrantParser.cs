using System.Text.RegularExpressions;

namespace EcomDr.Engine.Sources.MySql.Shared;

/// <summary>
/// Reads the privilege lists of SHOW GRANTS lines (MySQL and MariaDB). Only the part before
/// " ON " is kept: the rest of a MariaDB line can carry a password hash, which must never be
/// stored or echoed.
/// </summary>
public static partial class GrantParser
{
    public static PrivilegeSet ParseAll(IEnumerable<string> lines)
    {
        var grants = new List<Grant>();
        foreach (var line in lines)
        {
            if (Parse(line) is { } grant)
            {
                grants.Add(grant);
            }
        }

        return new PrivilegeSet(grants);
    }

    /// <summary>One "GRANT privs ON db.tbl TO ..." line, or null for role and PROXY grants.</summary>
    public static Grant? Parse(string line)
    {
        var match = GrantLine().Match(line);
        if (!match.Success)
        {
            return null; // a role grant ("GRANT role TO user") has no ON clause
        }

        var privileges = SplitTopLevel(match.Groups["privs"].Value)
            .Select(p => Normalize(StripColumns(p)))
            .Where(p => p.Length > 0)
            .ToHashSet(StringComparer.Ordinal);
        if (privileges.Contains("PROXY"))
        {
            return null;
        }

        var database = Unquote(match.Groups["db"].Value);
        var table = Unquote(match.Groups["tbl"].Value);
        return new Grant(privileges, database, table);
    }

    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case ',' when depth == 0:
                    yield return text[start..i];
                    start = i + 1;
                    break;
            }
        }

        yield return text[start..];
    }

    // "SELECT (a, b)" is a column grant: it still names the privilege.
    private static string StripColumns(string privilege)
    {
        var paren = privilege.IndexOf('(');
        return paren < 0 ? privilege : privilege[..paren];
    }

    private static string Normalize(string privilege)
    {
        var upper = Regex.Replace(privilege.Trim().ToUpperInvariant(), @"\s+", " ");
        return upper == "ALL" ? "ALL PRIVILEGES" : upper;
    }

    private static string Unquote(string identifier) =>
        identifier.Length >= 2 && identifier[0] == '`' && identifier[^1] == '`'
            ? identifier[1..^1].Replace("``", "`", StringComparison.Ordinal)
            : identifier;

    [GeneratedRegex(@"^\s*GRANT\s+(?<privs>.+?)\s+ON\s+(?:(?:TABLE|FUNCTION|PROCEDURE|PACKAGE(?:\s+BODY)?)\s+)?(?<db>`(?:[^`]|``)*`|\*|[^\s.]+)\.(?<tbl>`(?:[^`]|``)*`|\*|[^\s]+)\s+TO\s",
        RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex GrantLine();
}

/// <summary>One parsed grant: privileges on a database (or "*") and a table (or "*").</summary>
public sealed record Grant(IReadOnlySet<string> Privileges, string Database, string Table)
{
    public bool IsGlobal => Database == "*";
}
