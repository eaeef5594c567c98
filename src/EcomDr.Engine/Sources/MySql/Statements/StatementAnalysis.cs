namespace EcomDr.Engine.Sources.MySql.Statements;

/// <summary>What a statement is, for replay: it decides whether it runs, and with what around it.</summary>
public enum StatementKind
{
    /// <summary>BEGIN, COMMIT, ROLLBACK [TO], SAVEPOINT, RELEASE SAVEPOINT, XA …: no object of its own.</summary>
    Control,

    /// <summary>Creates, alters or drops objects (commits implicitly on the server).</summary>
    Ddl,

    /// <summary>Writes rows of the named tables (statement-based logging).</summary>
    Dml,

    /// <summary>Accounts, privileges, plugins, servers, flushes: outside every schema.</summary>
    Server,

    /// <summary>Not understood: what it writes is unknown.</summary>
    Unknown,
}

/// <summary>The kinds of object a statement writes.</summary>
public enum SqlObjectKind
{
    Database,
    Table,
    View,
    Routine,
    Trigger,
    Event,
    Sequence,
}

/// <summary>An object a statement creates, alters, drops or writes: its schema (the default one when unqualified) and name.</summary>
public sealed record SqlObject(string Schema, string Name, SqlObjectKind Kind)
{
    public override string ToString() => Kind == SqlObjectKind.Database ? $"database `{Schema}`" : $"{Kind.ToString().ToLowerInvariant()} `{Schema}`.`{Name}`";
}

/// <summary>
/// What a statement writes and names. <see cref="Writes"/> lists every object it creates, alters,
/// drops or writes rows of; <see cref="Named"/> every schema it mentions at all (reads included).
/// <see cref="StartsTransaction"/> marks MySQL's logged form of CREATE TABLE … SELECT
/// ("CREATE TABLE … START TRANSACTION"), whose rows follow in the same transaction.
/// <see cref="LikeSource"/> is the table a CREATE TABLE … LIKE copies the structure of.
/// </summary>
public sealed record StatementAnalysis(StatementKind Kind, string Verb, IReadOnlyList<SqlObject> Writes, IReadOnlySet<string> Named, bool Temporary = false,
    bool StartsTransaction = false, SqlObject? LikeSource = null)
{
    /// <summary>Whether the server commits the open transaction before running it (DDL and the statements MySQL lists as such).</summary>
    public bool CommitsImplicitly => Kind is StatementKind.Ddl or StatementKind.Server && !Temporary && !StartsTransaction;
}
