using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Statements;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// The structure of the tables outside the restored schemas, followed from the full backup's record
/// of them (<see cref="OutsideTables"/>) through the DDL the binlog holds for them, for the one thing
/// replay needs it for: a restored table created LIKE one of them, on a target that holds no such table
/// or holds today's. Such a table's structure is rebuilt as it was, as a temporary table in EcomDr's own
/// schema (not binlogged under row-based logging, gone with the session), and the statement is run LIKE
/// that one; the server then logs the full CREATE TABLE (docs/pitr.md, "Structure read from outside").
/// A change replay cannot follow (a table created LIKE a restored one, an ALTER that renames) marks the
/// table unknown: a later LIKE of it is refused, never guessed.
/// </summary>
internal sealed partial class OutsideStructure(IReadOnlyList<OutsideTable>? recorded, Func<string, bool> restored)
{
    /// <summary>Where shadows are built on the target: the schema every restore creates for its marker.</summary>
    public const string ShadowSchema = "ecomdr";

    private readonly Dictionary<(string Schema, string Name), string> _atBackup =
        (recorded ?? Array.Empty<OutsideTable>()).ToDictionary(t => (t.Schema, t.Name), t => t.Create);

    // Tables whose structure changed since the backup; a null history: dropped.
    private readonly Dictionary<(string Schema, string Name), History?> _changed = new();
    private readonly HashSet<string> _droppedSchemas = new(StringComparer.Ordinal);

    // Schemas a statement replay does not understand named: their tables' structure is unknown from there.
    private readonly Dictionary<string, string> _unfollowedSchemas = new(StringComparer.Ordinal);

    /// <summary>Whether the full backup records the tables outside its schemas (backups from before it did not).</summary>
    public bool Recorded => recorded is not null;

    /// <summary>A statement of the binlog that changes tables outside the restored schemas: replay leaves it out, and follows it here.</summary>
    public void Follow(StatementAnalysis analysis, QueryInfo query, uint timestamp, bool ansi, bool noBackslash)
    {
        var tables = analysis.Writes.Where(w => w.Kind == SqlObjectKind.Table).Select(w => (w.Schema, w.Name)).ToList();
        var step = new Step(StepKind.Statement, query.Sql, "", ansi, noBackslash, query.StatusVariables.ToArray(), timestamp);
        switch (analysis.Verb)
        {
            case "CREATE TABLE" when analysis.Temporary:
                return; // a session's own table, never in a row-based binlog
            case "CREATE TABLE" when IfNotExists().IsMatch(query.Sql) && Lookup(tables[0]) is not null:
                return; // it was there: nothing changed
            case "CREATE TABLE" when analysis.LikeSource is { } source:
                _changed[tables[0]] = restored(source.Schema) ? History.Unfollowed($"it was created LIKE `{source.Schema}`.`{source.Name}`, a restored table")
                    : Lookup((source.Schema, source.Name)) is not { } copied ? History.Unfollowed($"it was created LIKE `{source.Schema}`.`{source.Name}`, whose structure replay does not know")
                    : copied.Unknown is { } why ? History.Unfollowed(why)
                    : History.Of(step with { Kind = StepKind.Like, Name = tables[0].Name, From = source.Name, Source = copied });
                return;
            case "CREATE TABLE":
                _changed[tables[0]] = History.Of(step with { Kind = StepKind.Create, Name = tables[0].Name, Schema = tables[0].Schema });
                return;
            case "ALTER TABLE" when tables.Count == 1:
            case "CREATE INDEX" or "DROP INDEX":
                Append(tables[0], step with { Schema = tables[0].Schema });
                return;
            case "RENAME TABLE":
                for (var i = 0; i + 1 < tables.Count; i += 2)
                {
                    var moved = Lookup(tables[i]);
                    _changed[tables[i]] = null;
                    _changed[tables[i + 1]] = moved?.Then(new Step(StepKind.Rename, "", tables[i + 1].Schema, false, false, Array.Empty<byte>(), 0, Name: tables[i + 1].Name,
                        From: tables[i].Name));
                }

                return;
            case "DROP TABLE":
                tables.ForEach(t => _changed[t] = null);
                return;
            case "DROP DATABASE":
                var schema = analysis.Writes[0].Schema;
                _droppedSchemas.Add(schema);
                foreach (var key in _changed.Keys.Where(k => k.Schema == schema).ToList())
                {
                    _changed[key] = null;
                }

                return;
            case "TRUNCATE TABLE" or "ANALYZE TABLE" or "OPTIMIZE TABLE" or "REPAIR TABLE" or "CHECK TABLE" or "CHECKSUM TABLE":
                return; // rows and statistics, not structure
            default:
                tables.ForEach(t => _changed[t] = History.Unfollowed($"replay does not follow what its {analysis.Verb} statement did to it: {ReplayScope.Excerpt(query.Sql)}"));
                return;
        }
    }

    /// <summary>A statement whose writes replay cannot tell: every table of the outside schemas it names may have changed.</summary>
    public void FollowUnknown(IEnumerable<string> named, string sql)
    {
        foreach (var schema in named.Where(n => !restored(n)))
        {
            var why = $"a statement replay cannot read names `{schema}`: {ReplayScope.Excerpt(sql)}";
            _unfollowedSchemas[schema] = why;
            foreach (var key in _changed.Keys.Where(k => k.Schema == schema).ToList())
            {
                _changed[key] = History.Unfollowed(why);
            }
        }
    }

    /// <summary>
    /// The statements that build <paramref name="source"/>'s structure as it is at this point of the
    /// binlog, as a temporary table `ecomdr`.`name`; null when the backup records no outside tables
    /// (the statement then runs as logged). Throws the reason when the structure cannot be known.
    /// </summary>
    public IReadOnlyList<string>? Build(SqlObject source, uint threadId, Func<string, Exception> refuse)
    {
        if (!Recorded)
        {
            return null;
        }

        var history = Lookup((source.Schema, source.Name))
            ?? throw refuse($"it copies the structure of `{source.Schema}`.`{source.Name}`, which the full backup's record of the tables outside the restored schemas does not hold (a backup user that cannot see `{source.Schema}` records none of its tables), nor the binlog since");
        if (history.Unknown is { } why)
        {
            throw refuse($"it copies the structure of `{source.Schema}`.`{source.Name}`, which replay cannot know at that point: {why}");
        }

        // Temporary tables belong to the session's pseudo_thread_id, which each replayed statement sets to its
        // source session's: the shadow is built under the one of the statement that reads it.
        var statements = new List<string> { $"SET @@session.pseudo_thread_id={threadId}" };
        history.Render(statements, threadId, refuse);
        return statements;
    }

    /// <summary>The statement to run once the shadow is used: the temporary table is dropped.</summary>
    public static string Drop(SqlObject source, uint threadId) =>
        $"SET @@session.pseudo_thread_id={threadId}; DROP TEMPORARY TABLE IF EXISTS {Identifiers.Qualified(ShadowSchema, source.Name)}";

    private History? Lookup((string Schema, string Name) table)
    {
        if (_changed.TryGetValue(table, out var changed))
        {
            return changed;
        }

        if (_unfollowedSchemas.TryGetValue(table.Schema, out var why))
        {
            return History.Unfollowed(why);
        }

        return !_droppedSchemas.Contains(table.Schema) && _atBackup.TryGetValue(table, out var create)
            ? History.Of(new Step(StepKind.Base, create, table.Schema, false, false, Array.Empty<byte>(), 0, Name: table.Name))
            : null;
    }

    private void Append((string Schema, string Name) table, Step step)
    {
        if (Lookup(table) is { } history)
        {
            _changed[table] = history.Then(step);
        }
    }

    [GeneratedRegex(@"^\s*CREATE\s+(OR\s+REPLACE\s+)?TABLE\s+IF\s+NOT\s+EXISTS\b", RegexOptions.IgnoreCase)]
    private static partial Regex IfNotExists();

    private enum StepKind
    {
        /// <summary>The CREATE TABLE the server showed at the backup.</summary>
        Base,

        /// <summary>A CREATE TABLE with its definition, from the binlog.</summary>
        Create,

        /// <summary>Created LIKE another outside table: that one's history, then a copy.</summary>
        Like,

        /// <summary>ALTER TABLE, CREATE/DROP INDEX, from the binlog.</summary>
        Statement,

        /// <summary>Renamed (RENAME TABLE).</summary>
        Rename,
    }

    /// <summary>One change to a table's structure; Name is the table's name after it, Schema the one the statement's text calls it in.</summary>
    private sealed record Step(StepKind Kind, string Sql, string Schema, bool Ansi, bool NoBackslash, byte[] Status, uint Timestamp,
        string Name = "", string From = "", History? Source = null);

    /// <summary>A table's structure as the steps that build it; Unknown says why it cannot be built.</summary>
    private sealed record History(ImmutableList<Step> Steps, string? Unknown)
    {
        public static History Of(Step first) => new(ImmutableList.Create(first), null);

        public static History Unfollowed(string why) => new(ImmutableList<Step>.Empty, why);

        public History Then(Step step) => Unknown is null ? this with { Steps = Steps.Add(step) } : this;

        public void Render(List<string> statements, uint threadId, Func<string, Exception> refuse)
        {
            var name = "";
            foreach (var step in Steps)
            {
                switch (step.Kind)
                {
                    case StepKind.Base:
                        statements.Add(TemporaryFromShown(step.Sql, step.Name));
                        break;
                    case StepKind.Create:
                        statements.Add(InShadow(step, Temporary(step.Sql, step.Ansi, step.NoBackslash), threadId));
                        break;
                    case StepKind.Like:
                        if (step.Name == step.From)
                        {
                            throw refuse($"it copies a table created LIKE another table of the same name (`{step.From}`), which replay does not rebuild");
                        }

                        step.Source!.Render(statements, threadId, refuse);
                        statements.Add($"CREATE TEMPORARY TABLE {Identifiers.Qualified(ShadowSchema, step.Name)} LIKE {Identifiers.Qualified(ShadowSchema, step.From)}");
                        statements.Add($"DROP TEMPORARY TABLE {Identifiers.Qualified(ShadowSchema, step.From)}");
                        break;
                    case StepKind.Statement:
                        statements.Add(InShadow(step, step.Sql, threadId));
                        break;
                    case StepKind.Rename:
                        statements.Add($"ALTER TABLE {Identifiers.Qualified(ShadowSchema, name)} RENAME TO {Identifiers.Qualified(ShadowSchema, step.Name)}");
                        break;
                }

                name = step.Name.Length > 0 ? step.Name : name;
            }
        }
    }

    /// <summary>A logged statement run on the shadow: its session context, in EcomDr's schema, its table's schema renamed to it.</summary>
    private static string InShadow(Step step, string sql, uint threadId) =>
        $"{QueryContext.SetStatement(step.Status, step.Timestamp, threadId)}; USE {Identifiers.Quote(ShadowSchema)}; " +
        SchemaRenamer.Rename(sql, new Dictionary<string, string> { [step.Schema] = ShadowSchema }, step.Ansi, step.NoBackslash);

    /// <summary>CREATE [OR REPLACE] TABLE … as CREATE [OR REPLACE] TEMPORARY TABLE ….</summary>
    private static string Temporary(string sql, bool ansi, bool noBackslash)
    {
        var table = SqlTokenizer.Scan(sql, ansi, noBackslash).First(t => t.Is("TABLE"));
        return sql[..table.Start] + "TEMPORARY " + sql[table.Start..];
    }

    /// <summary>
    /// SHOW CREATE TABLE's text as a temporary table in the shadow schema, without its foreign keys: a
    /// temporary table cannot have them, and CREATE TABLE … LIKE does not copy them (the indexes they
    /// use are shown as keys of their own, and stay).
    /// </summary>
    private static string TemporaryFromShown(string create, string name)
    {
        var tokens = SqlTokenizer.Scan(create).Take(3).ToList();
        var lines = create[(tokens[2].Start + tokens[2].Length)..].Split('\n');
        var kept = new StringBuilder($"CREATE TEMPORARY TABLE {Identifiers.Qualified(ShadowSchema, name)}");
        var body = new List<string>();
        var closing = Array.FindIndex(lines, 1, l => l.StartsWith(')'));
        for (var i = 1; i < closing; i++)
        {
            if (!ForeignKey().IsMatch(lines[i]))
            {
                body.Add(lines[i].TrimEnd().TrimEnd(','));
            }
        }

        kept.Append(lines[0]).Append('\n').Append(string.Join(",\n", body)).Append('\n').Append(string.Join('\n', lines[closing..]));
        return kept.ToString();
    }

    [GeneratedRegex(@"^\s*(CONSTRAINT\s+(`(?:[^`]|``)*`\s+)?)?FOREIGN\s+KEY\b", RegexOptions.IgnoreCase)]
    private static partial Regex ForeignKey();
}
