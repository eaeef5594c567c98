using System.Text.RegularExpressions;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Sources.MySql.Dump;

/// <summary>A schema's definition as dumped: its tables and the objects created after the data.</summary>
public sealed class SchemaDefinition
{
    public string Schema { get; set; } = "";

    public string CharacterSet { get; set; } = "";

    public string Collation { get; set; } = "";

    public List<SchemaObject> Tables { get; set; } = new();

    /// <summary>Views, routines, triggers and events, in creation order.</summary>
    public List<SchemaObject> Objects { get; set; } = new();
}

/// <summary>One CREATE statement with the session settings it must run under.</summary>
public sealed class SchemaObject
{
    public string Type { get; set; } = "";

    public string Name { get; set; } = "";

    public string Ddl { get; set; } = "";

    public string? SqlMode { get; set; }

    public string? CharacterSetClient { get; set; }

    public string? CollationConnection { get; set; }
}

/// <summary>Text rewrites of DDL: definers removed, schema qualifiers renamed.</summary>
public static partial class DdlRewriter
{
    /// <summary>
    /// Drops DEFINER clauses: the definer account may not exist where a backup is restored, and the
    /// restoring account becomes the definer (as mydumper's --skip-definer does).
    /// </summary>
    public static string StripDefiner(string ddl) => Definer().Replace(ddl, "");

    /// <summary>Renames schema qualifiers, source to target (views, routines, triggers, events, cross-schema keys, replayed statements).</summary>
    public static string RenameSchemas(string ddl, IReadOnlyDictionary<string, string> map) => SchemaRenamer.Rename(ddl, map);

    [GeneratedRegex(@"DEFINER\s*=\s*(`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s@]+)@(`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s]+)\s*", RegexOptions.IgnoreCase)]
    private static partial Regex Definer();
}
