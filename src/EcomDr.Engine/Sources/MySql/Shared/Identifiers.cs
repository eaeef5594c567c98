namespace EcomDr.Engine.Sources.MySql.Shared;

/// <summary>Identifiers as SQL text: every name is quoted, so any legal identifier works.</summary>
public static class Identifiers
{
    /// <summary>A back-quoted identifier, inner back quotes doubled.</summary>
    public static string Quote(string identifier) => "`" + identifier.Replace("`", "``", StringComparison.Ordinal) + "`";

    /// <summary>`schema`.`name`.</summary>
    public static string Qualified(string schema, string name) => $"{Quote(schema)}.{Quote(name)}";
}
