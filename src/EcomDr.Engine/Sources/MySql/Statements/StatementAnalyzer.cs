using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Sources.MySql.Statements;

/// <summary>
/// Finds what a statement writes, from its tokens (<see cref="SqlTokenizer"/>), for the statements a
/// binary log holds: DDL of every object kind (tables, views, routines, triggers, events, sequences,
/// indexes, databases), RENAME/TRUNCATE and table maintenance, statement-based INSERT/REPLACE/UPDATE/
/// DELETE/LOAD DATA (multi-table forms resolved through their aliases), transaction control, and
/// server-level statements (accounts, privileges, plugins). Reads (LIKE sources, SELECT parts, join
/// partners, foreign-key targets) are names, not writes. Anything else is <see cref="StatementKind.Unknown"/>.
/// </summary>
public static class StatementAnalyzer
{
    /// <summary>Tokens parsed at most: what a statement writes is named at its start (a huge INSERT's values are never read).</summary>
    private const int MaxParsedTokens = 50_000;

    public static StatementAnalysis Analyze(string sql, string defaultSchema, bool ansiQuotes = false, bool noBackslashEscapes = false)
    {
        var tokens = SqlTokenizer.Scan(sql, ansiQuotes, noBackslashEscapes).Take(MaxParsedTokens).ToList();
        var named = tokens.Count < MaxParsedTokens ? SchemaRenamer.Named(tokens) : SchemaRenamer.Named(SqlTokenizer.Scan(sql, ansiQuotes, noBackslashEscapes));
        var result = new Parser(tokens, defaultSchema, EndsWithStartTransaction(sql)).Statement();
        return result with { Named = named };
    }

    /// <summary>MySQL's logged CREATE TABLE … SELECT ends with START TRANSACTION (server-generated text, so its tail is enough).</summary>
    private static bool EndsWithStartTransaction(string sql)
    {
        var tail = sql.AsSpan(Math.Max(0, sql.Length - 64)).TrimEnd();
        if (!tail.EndsWith("TRANSACTION", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var before = tail[..^"TRANSACTION".Length].TrimEnd();
        return before.EndsWith("START", StringComparison.OrdinalIgnoreCase) && (before.Length == 5 || char.IsWhiteSpace(before[^6]));
    }

    private sealed record TableRef(string Schema, string Name, string? Alias);

    private sealed class Parser(IReadOnlyList<SqlToken> tokens, string defaultSchema, bool endsWithStartTransaction)
    {
        private static readonly SqlToken End = new(SqlTokenKind.Symbol, int.MaxValue, 0, "");
        private static readonly HashSet<string> Clauses = new(StringComparer.OrdinalIgnoreCase)
        {
            "ON", "USING", "SET", "WHERE", "ORDER", "LIMIT", "JOIN", "INNER", "CROSS", "LEFT", "RIGHT", "NATURAL", "STRAIGHT_JOIN", "OUTER", "FULL",
            "PARTITION", "USE", "IGNORE", "FORCE", "AS", "FROM", "RETURNING", "GROUP", "HAVING", "WINDOW", "FOR", "LOCK", "UNION", "VALUES", "SELECT",
        };

        private readonly HashSet<string> _cteNames = new(StringComparer.OrdinalIgnoreCase);
        private readonly List<SqlObject> _writes = new();
        private int _i;
        private bool _temporary;

        private SqlToken Peek(int k = 0) => _i + k < tokens.Count ? tokens[_i + k] : End;

        private bool AtEnd => _i >= tokens.Count;

        private bool Accept(params string[] keywords)
        {
            if (Peek().IsAny(keywords))
            {
                _i++;
                return true;
            }

            return false;
        }

        private bool AcceptSymbol(char c)
        {
            if (Peek().IsSymbol(c))
            {
                _i++;
                return true;
            }

            return false;
        }

        private void SkipIfExists()
        {
            if (Peek().Is("IF") && (Peek(1).Is("EXISTS") || (Peek(1).Is("NOT") && Peek(2).Is("EXISTS"))))
            {
                _i += Peek(1).Is("NOT") ? 3 : 2;
            }
        }

        private StatementAnalysis Result(StatementKind kind, string verb, bool startsTransaction = false) =>
            new(kind, verb, _writes.ToList(), new HashSet<string>(), _temporary, startsTransaction);

        private void Write(SqlObjectKind kind, (string Schema, string Name) name) => _writes.Add(new SqlObject(name.Schema, name.Name, kind));

        /// <summary>[schema.]name; the default schema when unqualified. Null when no name is there.</summary>
        private (string Schema, string Name)? Name()
        {
            if (!Peek().IsName && Peek().Kind != SqlTokenKind.String)
            {
                return null;
            }

            var first = tokens[_i++].Value;
            if (Peek().IsSymbol('.') && Peek(1).IsName)
            {
                _i += 2;
                return (first, tokens[_i - 1].Value);
            }

            return (defaultSchema, first);
        }

        private (string Schema, string Name) RequireName() => Name() ?? ("", "");

        private void NameList(SqlObjectKind kind)
        {
            do
            {
                if (Name() is { } name)
                {
                    Write(kind, name);
                }
            }
            while (AcceptSymbol(','));
        }

        /// <summary>DEFINER = user[@host] | CURRENT_USER[()] | role, ALGORITHM = x, SQL SECURITY x and other modifiers before the object keyword.</summary>
        private void SkipModifiers()
        {
            while (!AtEnd)
            {
                if (Accept("OR") && Accept("REPLACE"))
                {
                    continue;
                }

                if (Peek().IsAny("DEFINER", "ALGORITHM") && Peek(1).IsSymbol('='))
                {
                    var definer = Peek().Is("DEFINER");
                    _i += 2;
                    if (Accept("CURRENT_USER") && Peek().IsSymbol('(') && Peek(1).IsSymbol(')'))
                    {
                        _i += 2;
                    }
                    else if (!AtEnd)
                    {
                        _i++;
                        if (definer && Peek().Kind == SqlTokenKind.Variable)
                        {
                            _i++; // @host
                        }
                    }

                    continue;
                }

                if (Peek().Is("SQL") && Peek(1).Is("SECURITY"))
                {
                    _i += 3;
                    continue;
                }

                if (Peek().Is("TEMPORARY"))
                {
                    _temporary = true;
                    _i++;
                    continue;
                }

                if (Accept("ONLINE", "OFFLINE", "IGNORE", "AGGREGATE", "UNIQUE", "FULLTEXT", "SPATIAL", "NONATOMIC"))
                {
                    continue;
                }

                break;
            }
        }

        public StatementAnalysis Statement()
        {
            var first = Peek();
            if (first.Is("SET") && Peek(1).Is("STATEMENT"))
            {
                // MariaDB: SET STATEMENT var = value [, …] FOR statement
                SkipUntil(t => t.Is("FOR"));
                _i++;
                return Statement();
            }

            if (first.Is("WITH"))
            {
                SkipCommonTableExpressions();
                return Statement();
            }

            if (first.Kind != SqlTokenKind.Word)
            {
                return Result(StatementKind.Unknown, first.Value);
            }

            var verb = first.Value.ToUpperInvariant();
            switch (verb)
            {
                case "BEGIN" when !Peek(1).Is("NOT"):
                case "START" when Peek(1).Is("TRANSACTION"):
                case "COMMIT" or "ROLLBACK" or "SAVEPOINT" or "RELEASE" or "XA":
                    return Result(StatementKind.Control, verb);
                case "CREATE":
                    _i++;
                    return Create();
                case "ALTER":
                    _i++;
                    return Alter();
                case "DROP":
                    _i++;
                    return Drop();
                case "RENAME":
                    _i++;
                    return Rename();
                case "TRUNCATE":
                    _i++;
                    Accept("TABLE");
                    Write(SqlObjectKind.Table, RequireName());
                    return Result(StatementKind.Ddl, "TRUNCATE TABLE");
                case "ANALYZE" or "OPTIMIZE" or "REPAIR" or "CHECK" or "CHECKSUM":
                    _i++;
                    Accept("NO_WRITE_TO_BINLOG", "LOCAL");
                    if (!Accept("TABLE", "TABLES"))
                    {
                        return Result(StatementKind.Unknown, verb);
                    }

                    NameList(SqlObjectKind.Table);
                    return Result(StatementKind.Ddl, verb + " TABLE");
                case "INSERT" or "REPLACE":
                    _i++;
                    while (Accept("LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE"))
                    {
                    }

                    Accept("INTO");
                    Write(SqlObjectKind.Table, RequireName());
                    return Result(StatementKind.Dml, verb);
                case "UPDATE":
                    _i++;
                    return Update();
                case "DELETE":
                    _i++;
                    return Delete();
                case "LOAD" when Peek(1).IsAny("DATA", "XML"):
                    SkipUntil(t => t.Is("INTO"));
                    _i++;
                    Accept("TABLE");
                    Write(SqlObjectKind.Table, RequireName());
                    return Result(StatementKind.Dml, "LOAD DATA");
                case "GRANT" or "REVOKE" or "FLUSH" or "INSTALL" or "UNINSTALL" or "RESET" or "PURGE" or "CHANGE" or "KILL" or "SHUTDOWN":
                    return Result(StatementKind.Server, verb);
                case "SET" when Peek(1).IsAny("PASSWORD", "ROLE", "DEFAULT"):
                    return Result(StatementKind.Server, "SET " + Peek(1).Value.ToUpperInvariant());
                default:
                    return Result(StatementKind.Unknown, verb);
            }
        }

        private StatementAnalysis Create()
        {
            SkipModifiers();
            var what = Peek();
            _i++;
            switch (what.Kind == SqlTokenKind.Word ? what.Value.ToUpperInvariant() : "")
            {
                case "TABLE":
                    SkipIfExists();
                    Write(SqlObjectKind.Table, RequireName());
                    // CREATE TABLE x LIKE y, or CREATE TABLE x (LIKE y): y is read, not written.
                    if (Peek().IsSymbol('(') && Peek(1).Is("LIKE"))
                    {
                        _i++;
                    }

                    if (Accept("LIKE"))
                    {
                        var source = RequireName();
                        return Result(StatementKind.Ddl, "CREATE TABLE") with { LikeSource = new SqlObject(source.Schema, source.Name, SqlObjectKind.Table) };
                    }

                    // MySQL logs CREATE TABLE … SELECT as "CREATE TABLE … START TRANSACTION", its rows after it.
                    return Result(StatementKind.Ddl, "CREATE TABLE", endsWithStartTransaction);
                case "VIEW":
                    SkipIfExists();
                    Write(SqlObjectKind.View, RequireName());
                    return Result(StatementKind.Ddl, "CREATE VIEW");
                case "PROCEDURE" or "FUNCTION" or "PACKAGE":
                    Accept("BODY");
                    SkipIfExists();
                    var routine = RequireName();
                    if (tokens.Skip(_i).Any(t => t.Is("SONAME")))
                    {
                        return Result(StatementKind.Server, "CREATE FUNCTION (UDF)"); // a loadable function: server-wide
                    }

                    Write(SqlObjectKind.Routine, routine);
                    return Result(StatementKind.Ddl, "CREATE " + what.Value.ToUpperInvariant());
                case "TRIGGER":
                    return Trigger();
                case "EVENT":
                    SkipIfExists();
                    Write(SqlObjectKind.Event, RequireName());
                    return Result(StatementKind.Ddl, "CREATE EVENT");
                case "DATABASE" or "SCHEMA":
                    SkipIfExists();
                    Write(SqlObjectKind.Database, (RequireName().Name, ""));
                    return Result(StatementKind.Ddl, "CREATE DATABASE");
                case "INDEX":
                    SkipIfExists();
                    Name();
                    SkipUntil(t => t.Is("ON"));
                    _i++;
                    Write(SqlObjectKind.Table, RequireName());
                    return Result(StatementKind.Ddl, "CREATE INDEX");
                case "SEQUENCE":
                    SkipIfExists();
                    Write(SqlObjectKind.Sequence, RequireName());
                    return Result(StatementKind.Ddl, "CREATE SEQUENCE");
                case "USER" or "ROLE" or "SERVER" or "TABLESPACE" or "LOGFILE" or "RESOURCE" or "SPATIAL":
                    return Result(StatementKind.Server, "CREATE " + what.Value.ToUpperInvariant());
                default:
                    return Result(StatementKind.Unknown, "CREATE");
            }
        }

        private StatementAnalysis Trigger()
        {
            SkipIfExists();
            var start = _i;
            var trigger = RequireName();
            var qualified = _i - start > 1;
            SkipUntil(t => t.Is("ON"));
            _i++;
            var table = RequireName();
            // A trigger lives in its table's schema; a qualifier naming another one is written too (the server refuses it).
            Write(SqlObjectKind.Trigger, (table.Schema, trigger.Name));
            if (qualified && trigger.Schema != table.Schema)
            {
                Write(SqlObjectKind.Trigger, trigger);
            }

            return Result(StatementKind.Ddl, "CREATE TRIGGER");
        }

        private StatementAnalysis Alter()
        {
            SkipModifiers();
            var what = Peek();
            _i++;
            switch (what.Kind == SqlTokenKind.Word ? what.Value.ToUpperInvariant() : "")
            {
                case "TABLE":
                    SkipIfExists();
                    Write(SqlObjectKind.Table, RequireName());
                    AlterTableTargets();
                    return Result(StatementKind.Ddl, "ALTER TABLE");
                case "DATABASE" or "SCHEMA":
                    var named = Peek().Kind == SqlTokenKind.QuotedName
                        || (Peek().Kind == SqlTokenKind.Word && !Peek().IsAny("DEFAULT", "CHARACTER", "CHARSET", "COLLATE", "COMMENT", "UPGRADE", "READ", "ENCRYPTION"));
                    Write(SqlObjectKind.Database, (named ? RequireName().Name : defaultSchema, ""));
                    return Result(StatementKind.Ddl, "ALTER DATABASE");
                case "VIEW":
                    Write(SqlObjectKind.View, RequireName());
                    return Result(StatementKind.Ddl, "ALTER VIEW");
                case "PROCEDURE" or "FUNCTION" or "PACKAGE":
                    Write(SqlObjectKind.Routine, RequireName());
                    return Result(StatementKind.Ddl, "ALTER " + what.Value.ToUpperInvariant());
                case "EVENT":
                    Write(SqlObjectKind.Event, RequireName());
                    SkipUntil(t => t.Is("RENAME"));
                    if (Accept("RENAME"))
                    {
                        Accept("TO");
                        Write(SqlObjectKind.Event, RequireName());
                    }

                    return Result(StatementKind.Ddl, "ALTER EVENT");
                case "SEQUENCE":
                    SkipIfExists();
                    Write(SqlObjectKind.Sequence, RequireName());
                    return Result(StatementKind.Ddl, "ALTER SEQUENCE");
                case "USER" or "ROLE" or "SERVER" or "TABLESPACE" or "LOGFILE" or "RESOURCE" or "INSTANCE":
                    return Result(StatementKind.Server, "ALTER " + what.Value.ToUpperInvariant());
                default:
                    return Result(StatementKind.Unknown, "ALTER");
            }
        }

        /// <summary>The other tables an ALTER TABLE writes: RENAME [TO|AS] t, EXCHANGE PARTITION p WITH TABLE t, CONVERT PARTITION p TO TABLE t, CONVERT TABLE t TO PARTITION.</summary>
        private void AlterTableTargets()
        {
            var depth = 0;
            while (!AtEnd)
            {
                var t = Peek();
                if (t.IsSymbol('('))
                {
                    depth++;
                }
                else if (t.IsSymbol(')'))
                {
                    depth--;
                }
                else if (depth == 0 && t.Is("RENAME") && !Peek(1).IsAny("COLUMN", "INDEX", "KEY", "CONSTRAINT"))
                {
                    _i++;
                    Accept("TO", "AS");
                    Write(SqlObjectKind.Table, RequireName());
                    continue;
                }
                else if (depth == 0 && t.Is("TABLE") && _i > 0 && (tokens[_i - 1].Is("WITH") || tokens[_i - 1].Is("TO") || tokens[_i - 1].Is("CONVERT")))
                {
                    _i++;
                    Write(SqlObjectKind.Table, RequireName());
                    continue;
                }

                _i++;
            }
        }

        private StatementAnalysis Drop()
        {
            SkipModifiers();
            var what = Peek();
            _i++;
            switch (what.Kind == SqlTokenKind.Word ? what.Value.ToUpperInvariant() : "")
            {
                case "TABLE" or "TABLES":
                    SkipIfExists();
                    NameList(SqlObjectKind.Table);
                    return Result(StatementKind.Ddl, "DROP TABLE");
                case "VIEW":
                    SkipIfExists();
                    NameList(SqlObjectKind.View);
                    return Result(StatementKind.Ddl, "DROP VIEW");
                case "DATABASE" or "SCHEMA":
                    SkipIfExists();
                    Write(SqlObjectKind.Database, (RequireName().Name, ""));
                    return Result(StatementKind.Ddl, "DROP DATABASE");
                case "PROCEDURE" or "FUNCTION" or "PACKAGE":
                    Accept("BODY");
                    SkipIfExists();
                    Write(SqlObjectKind.Routine, RequireName());
                    return Result(StatementKind.Ddl, "DROP " + what.Value.ToUpperInvariant());
                case "EVENT":
                    SkipIfExists();
                    Write(SqlObjectKind.Event, RequireName());
                    return Result(StatementKind.Ddl, "DROP EVENT");
                case "TRIGGER":
                    SkipIfExists();
                    Write(SqlObjectKind.Trigger, RequireName());
                    return Result(StatementKind.Ddl, "DROP TRIGGER");
                case "SEQUENCE":
                    SkipIfExists();
                    NameList(SqlObjectKind.Sequence);
                    return Result(StatementKind.Ddl, "DROP SEQUENCE");
                case "INDEX":
                    SkipIfExists();
                    Name();
                    SkipUntil(t => t.Is("ON"));
                    _i++;
                    Write(SqlObjectKind.Table, RequireName());
                    return Result(StatementKind.Ddl, "DROP INDEX");
                case "USER" or "ROLE" or "SERVER" or "TABLESPACE" or "LOGFILE" or "RESOURCE":
                    return Result(StatementKind.Server, "DROP " + what.Value.ToUpperInvariant());
                default:
                    return Result(StatementKind.Unknown, "DROP");
            }
        }

        private StatementAnalysis Rename()
        {
            if (Accept("USER"))
            {
                return Result(StatementKind.Server, "RENAME USER");
            }

            if (!Accept("TABLE", "TABLES"))
            {
                return Result(StatementKind.Unknown, "RENAME");
            }

            SkipIfExists();
            do
            {
                Write(SqlObjectKind.Table, RequireName());
                Accept("NOWAIT");
                if (Accept("WAIT"))
                {
                    _i++;
                }

                if (!Accept("TO"))
                {
                    break;
                }

                Write(SqlObjectKind.Table, RequireName());
            }
            while (AcceptSymbol(','));

            return Result(StatementKind.Ddl, "RENAME TABLE");
        }

        private StatementAnalysis Update()
        {
            while (Accept("LOW_PRIORITY", "IGNORE"))
            {
            }

            var refs = TableReferences(t => t.Is("SET"));
            if (!Accept("SET"))
            {
                return Result(StatementKind.Unknown, "UPDATE");
            }

            var targets = new List<TableRef>();
            do
            {
                var parts = new List<string>();
                while (Peek().IsName)
                {
                    parts.Add(tokens[_i++].Value);
                    if (!AcceptSymbol('.'))
                    {
                        break;
                    }
                }

                targets.AddRange(Resolve(refs, parts.Count >= 3 ? parts[^3] : null, parts.Count >= 2 ? parts[^2] : null));
                SkipExpression(t => t.IsSymbol(',') || t.IsAny("WHERE", "ORDER", "LIMIT", "RETURNING"));
            }
            while (AcceptSymbol(','));

            foreach (var target in targets.Distinct())
            {
                Write(SqlObjectKind.Table, (target.Schema, target.Name));
            }

            return Result(StatementKind.Dml, "UPDATE");
        }

        private StatementAnalysis Delete()
        {
            while (Accept("LOW_PRIORITY", "QUICK", "IGNORE"))
            {
            }

            List<(string? Schema, string Name)> targets;
            List<TableRef> refs;
            if (Accept("FROM"))
            {
                var single = TableReferences(t => t.IsAny("WHERE", "ORDER", "LIMIT", "RETURNING", "USING"), allowWildcard: true);
                if (Accept("USING"))
                {
                    // DELETE FROM t1, t2 USING refs: the first list names the tables rows are deleted from.
                    targets = single.Select(r => ((string?)r.Schema, r.Alias ?? r.Name)).ToList();
                    refs = TableReferences(t => t.IsAny("WHERE", "ORDER", "LIMIT"));
                }
                else
                {
                    foreach (var r in single)
                    {
                        Write(SqlObjectKind.Table, (r.Schema, r.Name));
                    }

                    return Result(StatementKind.Dml, "DELETE");
                }
            }
            else
            {
                // DELETE t1, t2 FROM refs
                targets = TableReferences(t => t.Is("FROM"), allowWildcard: true).Select(r => ((string?)r.Schema, r.Alias ?? r.Name)).ToList();
                if (!Accept("FROM"))
                {
                    return Result(StatementKind.Unknown, "DELETE");
                }

                refs = TableReferences(t => t.IsAny("WHERE", "ORDER", "LIMIT"));
            }

            foreach (var (schema, name) in targets)
            {
                // A target is an alias or a table of the references; a qualified one names the table itself.
                var match = refs.Where(r => (r.Alias ?? r.Name).Equals(name, StringComparison.OrdinalIgnoreCase) && (schema is null || schema == defaultSchema || r.Schema == schema)).ToList();
                foreach (var r in match.Count > 0 ? match : new List<TableRef> { new(schema ?? defaultSchema, name, null) })
                {
                    Write(SqlObjectKind.Table, (r.Schema, r.Name));
                }
            }

            return Result(StatementKind.Dml, "DELETE");
        }

        /// <summary>The references an assignment target qualified by <paramref name="qualifier"/> can mean: all of them when unqualified among several.</summary>
        private static IEnumerable<TableRef> Resolve(List<TableRef> refs, string? schema, string? qualifier)
        {
            if (qualifier is null)
            {
                return refs;
            }

            var match = refs.Where(r => (r.Alias is { } a ? a.Equals(qualifier, StringComparison.OrdinalIgnoreCase) && schema is null : r.Name == qualifier && (schema is null || r.Schema == schema))).ToList();
            return match.Count > 0 ? match : refs;
        }

        /// <summary>Table references (FROM/UPDATE lists and joins) up to a clause; derived tables are read only.</summary>
        private List<TableRef> TableReferences(Func<SqlToken, bool> stop, bool allowWildcard = false)
        {
            var refs = new List<TableRef>();
            while (!AtEnd && !stop(Peek()))
            {
                Factor(refs, stop, allowWildcard);
                if (stop(Peek()))
                {
                    break;
                }

                if (AcceptSymbol(','))
                {
                    continue;
                }

                var joined = false;
                while (Accept("NATURAL", "LEFT", "RIGHT", "INNER", "CROSS", "OUTER", "FULL"))
                {
                    joined = true;
                }

                if (Accept("JOIN", "STRAIGHT_JOIN") || joined)
                {
                    continue;
                }

                if (Accept("ON"))
                {
                    SkipExpression(t => stop(t) || t.IsSymbol(',') || t.IsAny("JOIN", "STRAIGHT_JOIN", "LEFT", "RIGHT", "INNER", "CROSS", "NATURAL", "FULL"));
                    if (AcceptSymbol(','))
                    {
                        continue;
                    }

                    continue;
                }

                if (Accept("USING"))
                {
                    SkipParentheses();
                    continue;
                }

                if (!stop(Peek()))
                {
                    _i++; // something this does not read: step over it
                }
            }

            return refs;
        }

        private void Factor(List<TableRef> refs, Func<SqlToken, bool> stop, bool allowWildcard)
        {
            if (Peek().IsSymbol('('))
            {
                if (Peek(1).IsAny("SELECT", "WITH", "VALUES", "TABLE"))
                {
                    SkipParentheses(); // a derived table: read only
                    Accept("AS");
                    if (Peek().IsName && !Clauses.Contains(Peek().Value))
                    {
                        _i++;
                    }

                    return;
                }

                _i++;
                refs.AddRange(TableReferences(t => t.IsSymbol(')') || stop(t), allowWildcard));
                AcceptSymbol(')');
                return;
            }

            if (Name() is not { } name)
            {
                return;
            }

            if (allowWildcard && Peek().IsSymbol('.') && Peek(1).IsSymbol('*'))
            {
                _i += 2; // t.* in a DELETE target list
            }

            if (Peek().Is("PARTITION") && Peek(1).IsSymbol('('))
            {
                _i++;
                SkipParentheses();
            }

            string? alias = null;
            if (Accept("AS") || (Peek().IsName && !(Peek().Kind == SqlTokenKind.Word && Clauses.Contains(Peek().Value))))
            {
                alias = Peek().IsName ? tokens[_i++].Value : null;
            }

            while (Peek().IsAny("USE", "IGNORE", "FORCE") && Peek(1).IsAny("INDEX", "KEY"))
            {
                _i += 2;
                if (Accept("FOR"))
                {
                    _i += Peek().Is("GROUP") || Peek().Is("ORDER") ? 2 : 1;
                }

                SkipParentheses();
            }

            if (name.Schema == defaultSchema && _cteNames.Contains(name.Name))
            {
                return; // a common table expression: read only
            }

            refs.Add(new TableRef(name.Schema, name.Name, alias));
        }

        private void SkipCommonTableExpressions()
        {
            _i++;
            Accept("RECURSIVE");
            do
            {
                if (Peek().IsName)
                {
                    _cteNames.Add(tokens[_i++].Value);
                }

                if (Peek().IsSymbol('('))
                {
                    SkipParentheses();
                }

                Accept("AS");
                SkipParentheses();
            }
            while (AcceptSymbol(','));
        }

        private void SkipParentheses()
        {
            if (!Peek().IsSymbol('('))
            {
                return;
            }

            var depth = 0;
            while (!AtEnd)
            {
                var t = tokens[_i++];
                if (t.IsSymbol('('))
                {
                    depth++;
                }
                else if (t.IsSymbol(')') && --depth == 0)
                {
                    return;
                }
            }
        }

        /// <summary>Steps over an expression: up to a token at parenthesis depth 0 that <paramref name="stop"/> accepts.</summary>
        private void SkipExpression(Func<SqlToken, bool> stop)
        {
            var depth = 0;
            while (!AtEnd)
            {
                var t = Peek();
                if (depth == 0 && (stop(t) || t.IsSymbol(')')))
                {
                    return;
                }

                if (t.IsSymbol('('))
                {
                    depth++;
                }
                else if (t.IsSymbol(')'))
                {
                    depth--;
                }

                _i++;
            }
        }

        private void SkipUntil(Func<SqlToken, bool> stop) => SkipExpression(stop);
    }
}
