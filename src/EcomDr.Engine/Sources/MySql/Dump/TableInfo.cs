using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Sources.MySql.Dump;

/// <summary>A column as the dump sees it: its type decides how values are written.</summary>
public sealed record ColumnInfo(string Name, string DataType, string ColumnType, bool Generated, bool Unsigned);

/// <summary>A base table: its columns in order, its primary key, engine and size estimate.</summary>
public sealed record TableInfo(string Schema, string Name, string Engine, long EstimatedRows, IReadOnlyList<ColumnInfo> Columns, IReadOnlyList<string> PrimaryKey)
{
    /// <summary>Columns whose values are dumped (generated columns are recomputed by the server).</summary>
    public IReadOnlyList<ColumnInfo> StoredColumns => Columns.Where(c => !c.Generated).ToList();

    /// <summary>True when rows can be split by ranges of a single integer primary key.</summary>
    public bool HasIntegerKey =>
        PrimaryKey.Count == 1 && Columns.First(c => c.Name == PrimaryKey[0]).DataType is "tinyint" or "smallint" or "mediumint" or "int" or "bigint";

    public string QualifiedName => Identifiers.Qualified(Schema, Name);
}
