using System.Text;

namespace EcomDr.Engine.MySql;

/// <summary>
/// Renames schemas in a statement: every schema qualifier (`shop`.t or shop.t) and the name after
/// CREATE/ALTER/DROP DATABASE|SCHEMA and USE. String literals and ordinary comments are left as they
/// are; executable comments (/*! ... */, /*M! ... */) are code and are renamed too. A qualifier is
/// not parsed for its role: a table or alias named like a mapped schema, used as table.column, is
/// renamed as well (keep table names distinct from schema names).
/// </summary>
public static class SchemaRenamer
{
    public static string Rename(string sql, IReadOnlyDictionary<string, string> map) =>
        !map.Any(m => m.Key != m.Value) ? sql : Scan(sql, name => map.TryGetValue(name, out var renamed) && renamed != name ? renamed : null);

    /// <summary>The schemas a statement names (qualifiers, DATABASE/SCHEMA/USE names).</summary>
    public static IReadOnlySet<string> Named(string sql)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        Scan(sql, name =>
        {
            names.Add(name);
            return null;
        });
        return names;
    }

    /// <summary>Walks the statement's code, calling <paramref name="schema"/> for each schema name; a non-null answer replaces it.</summary>
    private static string Scan(string sql, Func<string, string?> schema)
    {
        var output = new StringBuilder(sql.Length + 32);
        var nameFollows = false; // the next identifier is a schema name (after DATABASE, SCHEMA or USE)
        var i = 0;
        while (i < sql.Length)
        {
            var ch = sql[i];
            var next = i + 1 < sql.Length ? sql[i + 1] : '\0';
            int end;
            if (ch is '\'' or '"')
            {
                end = SkipQuoted(sql, i, ch);
                output.Append(sql, i, end - i);
                i = end;
                continue;
            }

            if ((ch == '-' && next == '-' && (i + 2 >= sql.Length || char.IsWhiteSpace(sql[i + 2]))) || ch == '#')
            {
                end = sql.IndexOf('\n', i);
                end = end < 0 ? sql.Length : end;
                output.Append(sql, i, end - i);
                i = end;
                continue;
            }

            if (ch == '/' && next == '*')
            {
                if (i + 2 < sql.Length && (sql[i + 2] == '!' || (sql[i + 2] == 'M' && i + 3 < sql.Length && sql[i + 3] == '!')))
                {
                    var open = sql[i + 2] == '!' ? 3 : 4;
                    output.Append(sql, i, open);
                    i += open;
                    while (i < sql.Length && char.IsAsciiDigit(sql[i]))
                    {
                        output.Append(sql[i++]); // the version the comment runs from
                    }

                    continue;
                }

                end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? sql.Length : end + 2;
                output.Append(sql, i, end - i);
                i = end;
                continue;
            }

            string? name = null;
            if (ch == '`')
            {
                end = SkipQuoted(sql, i, '`');
                name = sql.Substring(i + 1, Math.Max(0, end - i - 2)).Replace("``", "`", StringComparison.Ordinal);
            }
            else if (char.IsLetterOrDigit(ch) || ch is '_' or '$')
            {
                end = i;
                while (end < sql.Length && (char.IsLetterOrDigit(sql[end]) || sql[end] is '_' or '$'))
                {
                    end++;
                }

                var word = sql[i..end];
                if (word.Equals("DATABASE", StringComparison.OrdinalIgnoreCase) || word.Equals("SCHEMA", StringComparison.OrdinalIgnoreCase) || word.Equals("USE", StringComparison.OrdinalIgnoreCase))
                {
                    nameFollows = true;
                    output.Append(word);
                    i = end;
                    continue;
                }

                if (nameFollows && (word.Equals("IF", StringComparison.OrdinalIgnoreCase) || word.Equals("NOT", StringComparison.OrdinalIgnoreCase) || word.Equals("EXISTS", StringComparison.OrdinalIgnoreCase)))
                {
                    output.Append(word);
                    i = end;
                    continue;
                }

                name = word;
            }
            else
            {
                nameFollows &= char.IsWhiteSpace(ch);
                output.Append(ch);
                i++;
                continue;
            }

            var after = end;
            while (after < sql.Length && char.IsWhiteSpace(sql[after]))
            {
                after++;
            }

            var qualifies = after < sql.Length && sql[after] == '.' && !(after + 1 < sql.Length && char.IsAsciiDigit(sql[after + 1]) && char.IsAsciiDigit(name[0]));
            if ((qualifies || nameFollows) && schema(name) is { } renamed)
            {
                output.Append('`').Append(renamed.Replace("`", "``", StringComparison.Ordinal)).Append('`');
            }
            else
            {
                output.Append(sql, i, end - i);
            }

            nameFollows = false;
            i = end;
        }

        return output.ToString();
    }

    /// <summary>The index just past a quoted run starting at <paramref name="start"/> (doubled quotes and backslash escapes inside).</summary>
    private static int SkipQuoted(string sql, int start, char quote)
    {
        var i = start + 1;
        while (i < sql.Length)
        {
            if (sql[i] == '\\' && quote != '`')
            {
                i += 2;
                continue;
            }

            if (sql[i] == quote)
            {
                if (i + 1 < sql.Length && sql[i + 1] == quote)
                {
                    i += 2;
                    continue;
                }

                return i + 1;
            }

            i++;
        }

        return sql.Length;
    }
}
