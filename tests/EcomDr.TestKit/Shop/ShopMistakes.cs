using MySqlConnector;

namespace EcomDr.TestKit.Shop;

/// <summary>
/// What the logical-deletion story needs around the shop, for the tests and the demo: the mistake (a
/// purge of old orders run against production by accident), and a copy of the shop taken right before
/// it, kept out of the binlog, as the reference a restore is validated against.
/// </summary>
public static class ShopMistakes
{
    /// <summary>Deletes orders up to an id with everything that points at them, in one transaction.</summary>
    public static async Task PurgeOrdersAsync(string connectionString, string schema, long upToOrderId)
    {
        await using var c = new MySqlConnection(connectionString);
        await c.OpenAsync().ConfigureAwait(false);
        await c.ChangeDatabaseAsync(schema).ConfigureAwait(false); // the multi-table DELETE's aliases need a default schema
        var s = schema;
        await using var cmd = new MySqlCommand($"""
            START TRANSACTION;
            DELETE r FROM {s}.refunds r JOIN {s}.payments p ON p.id = r.payment_id WHERE p.order_id <= {upToOrderId};
            DELETE FROM {s}.payments WHERE order_id <= {upToOrderId};
            DELETE FROM {s}.order_status_history WHERE order_id <= {upToOrderId};
            DELETE FROM {s}.order_items WHERE order_id <= {upToOrderId};
            DELETE FROM {s}.orders WHERE id <= {upToOrderId};
            COMMIT
            """, c);
        await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>Copies every shop table's stored columns into a new schema, outside the binlog (needs SUPER or BINLOG ADMIN).</summary>
    public static async Task CopyOutsideBinlogAsync(string connectionString, string schema, string copy)
    {
        await using var c = new MySqlConnection(connectionString);
        await c.OpenAsync().ConfigureAwait(false);
        var statements = new List<string> { "SET SESSION sql_log_bin = 0", $"CREATE DATABASE `{copy}`" };
        foreach (var table in ShopSchema.Tables)
        {
            await using var columns = new MySqlCommand(
                "SELECT GROUP_CONCAT(CONCAT('`', COLUMN_NAME, '`') ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = @s AND TABLE_NAME = @t AND EXTRA NOT LIKE '%GENERATED%'", c);
            columns.Parameters.AddWithValue("@s", schema);
            columns.Parameters.AddWithValue("@t", table);
            var list = Convert.ToString(await columns.ExecuteScalarAsync().ConfigureAwait(false));
            statements.Add($"CREATE TABLE `{copy}`.`{table}` LIKE `{schema}`.`{table}`");
            statements.Add($"INSERT INTO `{copy}`.`{table}` ({list}) SELECT {list} FROM `{schema}`.`{table}`");
        }

        await using var cmd = new MySqlCommand(string.Join("; ", statements), c);
        await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
    }
}
