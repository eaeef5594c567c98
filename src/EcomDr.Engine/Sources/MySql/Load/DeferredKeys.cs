using System.Text.RegularExpressions;

namespace EcomDr.Engine.Sources.MySql.Load;

/// <summary>
/// Splits a SHOW CREATE TABLE statement into the table with its primary and unique keys, and the
/// plain secondary keys and foreign keys to add after the data is loaded. InnoDB then builds those
/// indexes by sorting, once, instead of updating them row by row during the load (and a foreign key
/// added with foreign_key_checks = 0 is not re-validated). Keys that must exist at CREATE time stay:
/// the one that starts with the AUTO_INCREMENT column, FULLTEXT and SPATIAL keys.
/// </summary>
internal static partial class DeferredKeys
{
    /// <summary>
    /// KeyClauses and ForeignKeyClauses are AlterClauses in two parts: the keys can be built as soon as
    /// the table is loaded; a foreign key names another table, whose loads it would wait for.
    /// </summary>
    public sealed record Split(string CreateTable, string? AlterClauses, int Deferred)
    {
        public string? KeyClauses { get; init; }

        public int KeyCount { get; init; }

        public string? ForeignKeyClauses { get; init; }
    }

    public static Split Apply(string ddl)
    {
        var lines = ddl.Split('\n');
        var open = Array.FindIndex(lines, l => l.TrimEnd().EndsWith('('));
        var close = Array.FindLastIndex(lines, l => l.StartsWith(')'));
        if (open < 0 || close <= open)
        {
            return new Split(ddl, null, 0);
        }

        var items = lines[(open + 1)..close].Select(l => l.TrimEnd().TrimEnd(',')).ToList();
        var autoIncrement = items.Select(i => AutoIncrementColumn().Match(i)).FirstOrDefault(m => m.Success)?.Groups["c"].Value.Replace("``", "`", StringComparison.Ordinal);
        var kept = new List<string>();
        var deferred = new List<string>();
        var keys = new List<string>();
        var foreign = new List<string>();
        foreach (var item in items)
        {
            var trimmed = item.TrimStart();
            var isKey = trimmed.StartsWith("KEY ", StringComparison.Ordinal) || trimmed.StartsWith("INDEX ", StringComparison.Ordinal);
            var isForeign = trimmed.StartsWith("CONSTRAINT ", StringComparison.Ordinal) && trimmed.Contains(" FOREIGN KEY ", StringComparison.Ordinal);
            var needed = isKey && autoIncrement is not null && FirstKeyColumn(trimmed) == autoIncrement;
            if ((isKey && !needed) || isForeign)
            {
                deferred.Add("ADD " + trimmed);
                (isForeign ? foreign : keys).Add("ADD " + trimmed);
            }
            else
            {
                kept.Add(item);
            }
        }

        if (deferred.Count == 0)
        {
            return new Split(ddl, null, 0);
        }

        var create = string.Join('\n', lines[..(open + 1)]) + "\n" + string.Join(",\n", kept) + "\n" + string.Join('\n', lines[close..]);
        return new Split(create, string.Join(", ", deferred), deferred.Count)
        {
            KeyClauses = keys.Count > 0 ? string.Join(", ", keys) : null,
            KeyCount = keys.Count,
            ForeignKeyClauses = foreign.Count > 0 ? string.Join(", ", foreign) : null,
        };
    }

    private static string? FirstKeyColumn(string key)
    {
        var m = FirstColumn().Match(key);
        return m.Success ? m.Groups["c"].Value.Replace("``", "`", StringComparison.Ordinal) : null;
    }

    [GeneratedRegex(@"^\s*`(?<c>(?:[^`]|``)+)`\s.*\bAUTO_INCREMENT\b")]
    private static partial Regex AutoIncrementColumn();

    [GeneratedRegex(@"\(\s*`(?<c>(?:[^`]|``)+)`")]
    private static partial Regex FirstColumn();
}
