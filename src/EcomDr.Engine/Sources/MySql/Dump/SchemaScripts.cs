using System.Text;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Sources.MySql.Dump;

/// <summary>
/// The schema as plain SQL for the stock mysql/mariadb client, so a disaster never depends on
/// EcomDr: &lt;schema&gt;.tables.sql before the data chunks, &lt;schema&gt;.objects.sql after them
/// (views, routines, triggers, events; DELIMITER ;; around bodies).
/// </summary>
public static class SchemaScripts
{
    public static string Tables(SchemaDefinition definition)
    {
        var sb = new StringBuilder();
        sb.Append("-- EcomDr: tables of ").Append(definition.Schema).Append(". Load with: mariadb <target schema> < this file\n");
        sb.Append("SET NAMES utf8mb4;\nSET foreign_key_checks = 0;\n");
        foreach (var table in definition.Tables)
        {
            sb.Append(table.Ddl).Append(";\n");
        }

        return sb.ToString();
    }

    public static string Objects(SchemaDefinition definition)
    {
        var sb = new StringBuilder();
        sb.Append("-- EcomDr: views, routines, triggers and events of ").Append(definition.Schema).Append(". Load after the data, into the same database.\n");
        sb.Append("SET NAMES utf8mb4;\nDELIMITER ;;\n");
        foreach (var obj in definition.Objects)
        {
            if (obj.SqlMode is not null)
            {
                sb.Append("SET SESSION sql_mode = '").Append(obj.SqlMode.Replace("'", "''", StringComparison.Ordinal)).Append("';;\n");
            }

            // Unqualified, so the objects land in whichever database the client loads them into.
            sb.Append(obj.Ddl.Replace(Identifiers.Quote(definition.Schema) + ".", "", StringComparison.Ordinal)).Append(";;\n");
        }

        sb.Append("DELIMITER ;\n");
        return sb.ToString();
    }
}
