namespace EcomDr.Engine.Sources.MySql.Statements;

/// <summary>What a token is: a bare word (keyword or identifier), a quoted name, a string literal, a number or a symbol.</summary>
public enum SqlTokenKind
{
    Word,
    QuotedName,
    String,
    Number,
    Symbol,

    /// <summary>A user or system variable: @v, @`v`, @'v', @@session.v.</summary>
    Variable,
}

/// <summary>
/// One token of a statement, with where it is in the text (for rewriting in place). For a quoted
/// name, <see cref="Value"/> is the name unquoted; for anything else it is the text as written
/// (a string literal of more than 4 KiB is not copied: its value reads '').
/// </summary>
public readonly record struct SqlToken(SqlTokenKind Kind, int Start, int Length, string Value)
{
    public bool IsName => Kind is SqlTokenKind.Word or SqlTokenKind.QuotedName;

    public bool IsSymbol(char c) => Kind == SqlTokenKind.Symbol && Value.Length == 1 && Value[0] == c;

    /// <summary>A bare word equal to <paramref name="keyword"/>, ignoring case (a quoted name never is a keyword).</summary>
    public bool Is(string keyword) => Kind == SqlTokenKind.Word && Value.Equals(keyword, StringComparison.OrdinalIgnoreCase);

    public bool IsAny(params string[] keywords)
    {
        if (Kind != SqlTokenKind.Word)
        {
            return false;
        }

        foreach (var k in keywords)
        {
            if (Value.Equals(k, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// Splits a MySQL/MariaDB statement into tokens the way the server's lexer sees them: string
/// literals ('…', and "…" unless ANSI_QUOTES) with doubled quotes and backslash escapes (unless
/// NO_BACKSLASH_ESCAPES), backtick names (and "…" names under ANSI_QUOTES), comments skipped
/// (--, #, /* */), and executable comments (/*! …*/, /*!50100 …*/, /*M! …*/) read as the code they
/// are. Nothing in a literal or an ordinary comment ever becomes a name.
/// </summary>
public static class SqlTokenizer
{
    public static List<SqlToken> Tokenize(string sql, bool ansiQuotes = false, bool noBackslashEscapes = false) =>
        Scan(sql, ansiQuotes, noBackslashEscapes).ToList();

    /// <summary>The tokens one by one, so a statement of many megabytes is never held as a token list.</summary>
    public static IEnumerable<SqlToken> Scan(string sql, bool ansiQuotes = false, bool noBackslashEscapes = false)
    {
        SqlToken? last = null;
        var inExecutable = false; // inside /*! … */: its closing */ ends it
        var i = 0;
        while (i < sql.Length)
        {
            var ch = sql[i];
            var next = i + 1 < sql.Length ? sql[i + 1] : '\0';
            if (char.IsWhiteSpace(ch))
            {
                i++;
                continue;
            }

            if (inExecutable && ch == '*' && next == '/')
            {
                inExecutable = false;
                i += 2;
                continue;
            }

            if (ch == '#' || (ch == '-' && next == '-' && (i + 2 >= sql.Length || char.IsWhiteSpace(sql[i + 2]) || char.IsControl(sql[i + 2]))))
            {
                var end = sql.IndexOf('\n', i);
                i = end < 0 ? sql.Length : end + 1;
                continue;
            }

            if (ch == '/' && next == '*')
            {
                var third = i + 2 < sql.Length ? sql[i + 2] : '\0';
                var mariaOnly = third == 'M' && i + 3 < sql.Length && sql[i + 3] == '!';
                if ((third == '!' || mariaOnly) && !inExecutable)
                {
                    i += mariaOnly ? 4 : 3;
                    while (i < sql.Length && char.IsAsciiDigit(sql[i]))
                    {
                        i++; // the server version the code runs from
                    }

                    inExecutable = true;
                    continue;
                }

                var close = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = close < 0 ? sql.Length : close + 2;
                continue;
            }

            if (ch == '`' || (ch == '"' && ansiQuotes))
            {
                var end = QuotedEnd(sql, i, ch, backslash: false);
                var name = sql.Substring(i + 1, Math.Max(0, end - i - 2)).Replace(new string(ch, 2), ch.ToString(), StringComparison.Ordinal);
                last = new SqlToken(SqlTokenKind.QuotedName, i, end - i, name);
                yield return last.Value;
                i = end;
                continue;
            }

            if (ch == '@')
            {
                var end = i + (next == '@' ? 2 : 1);
                var first = end < sql.Length ? sql[end] : '\0';
                if (first is '`' or '\'' or '"')
                {
                    end = QuotedEnd(sql, end, first, backslash: first != '`' && !noBackslashEscapes);
                }
                else
                {
                    while (end < sql.Length && (IsWordChar(sql[end]) || sql[end] == '.'))
                    {
                        end++;
                    }
                }

                last = new SqlToken(SqlTokenKind.Variable, i, end - i, sql[i..end]);
                yield return last.Value;
                i = end;
                continue;
            }

            if (ch is '\'' or '"')
            {
                var end = QuotedEnd(sql, i, ch, backslash: !noBackslashEscapes);
                // A long literal's text is not copied: nothing reads it (a statement may hold megabytes of them).
                last = new SqlToken(SqlTokenKind.String, i, end - i, end - i <= 4096 ? sql[i..end] : "''");
                yield return last.Value;
                i = end;
                continue;
            }

            if (IsWordChar(ch))
            {
                var end = i;
                while (end < sql.Length && IsWordChar(sql[end]))
                {
                    end++;
                }

                var word = sql[i..end];
                var number = word.All(char.IsAsciiDigit) || IsNumberLike(word);
                if (number && end + 1 < sql.Length && sql[end] == '.' && char.IsAsciiDigit(sql[end + 1]))
                {
                    // a decimal: 1.5, 2.5e3
                    end++;
                    while (end < sql.Length && IsWordChar(sql[end]))
                    {
                        end++;
                    }
                }

                last = new SqlToken(number ? SqlTokenKind.Number : SqlTokenKind.Word, i, end - i, sql[i..end]);
                yield return last.Value;
                i = end;
                continue;
            }

            if (ch == '.' && char.IsAsciiDigit(next) && (last is not { } before || !before.IsName || before.Start + before.Length < i))
            {
                // .5 is a number; t.5col is not written that way in practice
                var end = i + 1;
                while (end < sql.Length && IsWordChar(sql[end]))
                {
                    end++;
                }

                last = new SqlToken(SqlTokenKind.Number, i, end - i, sql[i..end]);
                yield return last.Value;
                i = end;
                continue;
            }

            last = new SqlToken(SqlTokenKind.Symbol, i, 1, ch.ToString());
            yield return last.Value;
            i++;
        }
    }

    /// <summary>Identifier characters of unquoted names: ASCII letters, digits, $ and _, and anything from U+0080 up.</summary>
    public static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '$' || c >= '\u0080';

    /// <summary>0x1F, 0b101, 1e5, 12: numbers, not names (a name may start with a digit but not be all digits).</summary>
    private static bool IsNumberLike(string word) =>
        (word.Length > 2 && word[0] == '0' && (word[1] is 'x' or 'b') && word[2..].All(char.IsAsciiHexDigit))
        || (char.IsAsciiDigit(word[0]) && word.TrimStart("0123456789".ToCharArray()) is var rest && rest.Length > 1 && rest[0] is 'e' or 'E' && rest[1..].All(char.IsAsciiDigit));

    /// <summary>The index just past a quoted run starting at <paramref name="start"/>: doubled quotes, and backslash escapes in strings.</summary>
    public static int QuotedEnd(string sql, int start, char quote, bool backslash)
    {
        var i = start + 1;
        while (i < sql.Length)
        {
            if (backslash && sql[i] == '\\')
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
