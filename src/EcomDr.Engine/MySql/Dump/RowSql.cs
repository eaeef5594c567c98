namespace EcomDr.Engine.MySql.Dump;

/// <summary>
/// Builds the SELECT that makes the server render each row as its SQL literal tuple
/// "(v1,v2,...)", returned as raw bytes: the client copies bytes instead of decoding values and
/// formatting them again. Strings use QUOTE() (quote, backslash, NUL and Ctrl-Z escaped) with CR and
/// LF escaped too, so every INSERT stays on one line; binary values become hex literals and BIT
/// values bit literals, so a chunk is valid UTF-8 text the stock client loads.
/// </summary>
internal static class RowSql
{
    private const string Backslash = "CHAR(92 USING ascii)";

    public static string Select(TableInfo table, string where = "", string orderBy = "") =>
        $"SELECT CAST(CONCAT('(', {string.Join(", ',', ", table.StoredColumns.Select(Expression))}, ')') AS BINARY) FROM {table.QualifiedName}{where}{orderBy}";

    private static string Expression(ColumnInfo column)
    {
        var c = TableInfo.Quote(column.Name);
        return column.DataType switch
        {
            "binary" or "varbinary" or "tinyblob" or "blob" or "mediumblob" or "longblob" or "geometry" or "point" or "linestring" or "polygon"
                or "multipoint" or "multilinestring" or "multipolygon" or "geometrycollection" =>
                $"IF({c} IS NULL, 'NULL', IF(LENGTH({c}) = 0, '''''', CONCAT('X''', HEX({c}), '''')))",
            "bit" => $"IF({c} IS NULL, 'NULL', CONCAT('b''', BIN({c} + 0), ''''))",
            _ => $"REPLACE(REPLACE(QUOTE({c}), CHAR(10 USING ascii), CONCAT({Backslash}, 'n')), CHAR(13 USING ascii), CONCAT({Backslash}, 'r'))",
        };
    }
}
