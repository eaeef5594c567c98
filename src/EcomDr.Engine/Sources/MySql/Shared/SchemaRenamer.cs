using System.Text;
using EcomDr.Engine.Sources.MySql.Statements;

namespace EcomDr.Engine.Sources.MySql.Shared;

/// <summary>
/// Renames schemas in a statement: every schema qualifier (`shop`.t, shop.t, shop.t.c, shop.*) and
/// the name after CREATE/ALTER/DROP DATABASE|SCHEMA and USE, on the tokens the server's lexer would
/// see (<see cref="SqlTokenizer"/>): string literals and ordinary comments are left as they are,
/// executable comments are code and renamed too. A two-part name is not parsed for its role: a table
/// or alias named like a mapped schema, used as table.column, is renamed as well (keep table names
/// distinct from schema names). In a three-part name only the first part is a schema.
/// </summary>
public static class SchemaRenamer
{
    public static string Rename(string sql, IReadOnlyDictionary<string, string> map, bool ansiQuotes = false, bool noBackslashEscapes = false)
    {
        if (!map.Any(m => m.Key != m.Value))
        {
            return sql;
        }

        var output = new StringBuilder(sql.Length + 32);
        var copied = 0;
        foreach (var token in SchemaTokens(SqlTokenizer.Scan(sql, ansiQuotes, noBackslashEscapes)))
        {
            if (map.TryGetValue(token.Value, out var renamed) && renamed != token.Value)
            {
                output.Append(sql, copied, token.Start - copied).Append(Identifiers.Quote(renamed));
                copied = token.Start + token.Length;
            }
        }

        return output.Append(sql, copied, sql.Length - copied).ToString();
    }

    /// <summary>The schemas a statement names (qualifiers, DATABASE/SCHEMA/USE names).</summary>
    public static IReadOnlySet<string> Named(string sql, bool ansiQuotes = false, bool noBackslashEscapes = false) =>
        Named(SqlTokenizer.Scan(sql, ansiQuotes, noBackslashEscapes));

    public static IReadOnlySet<string> Named(IEnumerable<SqlToken> tokens) =>
        SchemaTokens(tokens).Select(t => t.Value).ToHashSet(StringComparer.Ordinal);

    /// <summary>The tokens that name a schema, in order; streams, holding a few tokens at a time.</summary>
    public static IEnumerable<SqlToken> SchemaTokens(IEnumerable<SqlToken> tokens)
    {
        // A window of the recent tokens: two of lookahead, and enough behind for CREATE OR REPLACE DATABASE IF NOT EXISTS.
        var window = new List<SqlToken>();
        var index = 0; // of window[0] in the statement
        using var source = tokens.GetEnumerator();
        var more = true;
        for (var i = 0; ; i++)
        {
            while (more && window.Count < i - index + 3)
            {
                if (source.MoveNext())
                {
                    window.Add(source.Current);
                }
                else
                {
                    more = false;
                }
            }

            var at = i - index;
            if (at >= window.Count)
            {
                yield break;
            }

            if (IsSchema(window, at, i))
            {
                yield return window[at];
            }

            if (at > 8)
            {
                window.RemoveAt(0);
                index++;
            }
        }
    }

    /// <summary>Whether window[at] (token number <paramref name="position"/> of the statement) names a schema.</summary>
    private static bool IsSchema(List<SqlToken> window, int at, int position)
    {
        var t = window[at];
        if (!t.IsName)
        {
            return false;
        }

        var partOfChain = at > 0 && window[at - 1].IsSymbol('.');
        if (partOfChain)
        {
            return false;
        }

        var qualifies = at + 2 < window.Count && window[at + 1].IsSymbol('.') && (window[at + 2].IsName || window[at + 2].IsSymbol('*'));
        return qualifies || NamesDatabase(window, at, position);
    }

    /// <summary>Whether token i is the database of USE, or of CREATE/ALTER/DROP [OR REPLACE] DATABASE|SCHEMA [IF [NOT] EXISTS].</summary>
    private static bool NamesDatabase(IReadOnlyList<SqlToken> tokens, int i, int position)
    {
        if (position == 1 && tokens[i - 1].Is("USE"))
        {
            return true;
        }

        var k = i - 1;
        while (k >= 0 && tokens[k].IsAny("IF", "NOT", "EXISTS"))
        {
            k--;
        }

        if (k < 1 || !tokens[k].IsAny("DATABASE", "SCHEMA"))
        {
            return false;
        }

        var verb = k - 1;
        while (verb >= 0 && tokens[verb].IsAny("OR", "REPLACE"))
        {
            verb--;
        }

        if (verb < 0 || !tokens[verb].IsAny("CREATE", "ALTER", "DROP"))
        {
            return false;
        }

        // ALTER DATABASE may leave the name out: ALTER DATABASE CHARACTER SET …
        return tokens[i].Kind == SqlTokenKind.QuotedName
            || !tokens[i].IsAny("DEFAULT", "CHARACTER", "CHARSET", "COLLATE", "COMMENT", "UPGRADE", "READ", "ENCRYPTION");
    }
}
