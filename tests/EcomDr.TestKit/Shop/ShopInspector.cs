using MySqlConnector;

namespace EcomDr.TestKit.Shop;

/// <summary>
/// Reads a shop's state: checksums, row counts, binlog position and the workload's cross-table
/// invariants. A restore that mixes moments or loses rows breaks at least one invariant.
/// </summary>
public static class ShopInspector
{
    /// <summary>Every broken invariant, described; empty when the shop is consistent.</summary>
    public static async Task<IReadOnlyList<string>> VerifyInvariantsAsync(string connectionString, string schema)
    {
        await using var connection = await ShopGenerator.OpenAsync(connectionString, schema).ConfigureAwait(false);
        var violations = new List<string>();
        async Task Check(string what, string sql)
        {
            await using var command = new MySqlCommand(sql, connection);
            await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                violations.Add($"{what}: {reader.GetValue(0)}");
            }
        }

        await Check("order total or item count differs from its items (order id)", """
            SELECT o.id FROM orders o
              LEFT JOIN (SELECT order_id, SUM(quantity * unit_price) AS s, SUM(quantity) AS q FROM order_items GROUP BY order_id) i
                ON i.order_id = o.id
             WHERE o.total <> COALESCE(i.s, 0) OR o.item_count <> COALESCE(i.q, 0) LIMIT 20
            """).ConfigureAwait(false);
        await Check("stock + units sold differs from units received (product id)", """
            SELECT inv.product_id FROM inventory inv
              LEFT JOIN (SELECT product_id, SUM(quantity) AS q FROM order_items GROUP BY product_id) s ON s.product_id = inv.product_id
             WHERE inv.on_hand + COALESCE(s.q, 0) <> inv.received OR inv.on_hand < 0 LIMIT 20
            """).ConfigureAwait(false);
        await Check("paid/shipped order without exactly one approved payment of its total (order id)", """
            SELECT o.id FROM orders o
             WHERE o.status IN ('paid', 'shipped')
               AND (SELECT COUNT(*) FROM payments p WHERE p.order_id = o.id AND p.status = 'approved' AND p.amount = o.total) <> 1
             LIMIT 20
            """).ConfigureAwait(false);
        await Check("refunded order whose payment is not refunded in full (order id)", """
            SELECT o.id FROM orders o
             WHERE o.status = 'refunded'
               AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.status = 'refunded' AND p.amount = o.total
                               AND p.amount = (SELECT COALESCE(SUM(r.amount), 0) FROM refunds r WHERE r.payment_id = p.id))
             LIMIT 20
            """).ConfigureAwait(false);
        await Check("payment refunded beyond its amount, or approved yet fully refunded (payment id)", """
            SELECT p.id FROM payments p
              JOIN (SELECT payment_id, SUM(amount) AS s FROM refunds GROUP BY payment_id) r ON r.payment_id = p.id
             WHERE r.s > p.amount OR (p.status = 'approved' AND r.s = p.amount) LIMIT 20
            """).ConfigureAwait(false);
        await Check("pending order with a captured payment (order id)", """
            SELECT o.id FROM orders o
             WHERE o.status = 'pending' AND EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.status IN ('approved', 'refunded'))
             LIMIT 20
            """).ConfigureAwait(false);
        return violations;
    }

    /// <summary>
    /// A content digest of every shop table: row count and the sum of per-row SHA-256 prefixes over
    /// QUOTE() of every column. Order-independent and exact to the byte; CHECKSUM TABLE is not used
    /// because its value depends on the row format and it is unreliable with virtual columns.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, string>> ChecksumsAsync(string connectionString, string schema)
    {
        await using var connection = await ShopGenerator.OpenAsync(connectionString, schema).ConfigureAwait(false);
        return await ChecksumsAsync(connection).ConfigureAwait(false);
    }

    internal static async Task<IReadOnlyDictionary<string, string>> ChecksumsAsync(MySqlConnection connection)
    {
        var columns = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await using (var command = new MySqlCommand(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION", connection))
        await using (var reader = await command.ExecuteReaderAsync().ConfigureAwait(false))
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                var table = reader.GetString(0);
                if (!columns.TryGetValue(table, out var list))
                {
                    columns[table] = list = new List<string>();
                }

                list.Add($"QUOTE(`{reader.GetString(1)}`)");
            }
        }

        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var table in ShopSchema.Tables)
        {
            var row = $"SHA2(CONCAT_WS(',', {string.Join(", ", columns[table])}), 256)";
            await using var command = new MySqlCommand(
                $"SELECT CONCAT(COUNT(*), ':', COALESCE(SUM(CAST(CONV(LEFT({row}, 15), 16, 10) AS UNSIGNED)), 0)) FROM `{table}`", connection);
            result[table] = Convert.ToString(await command.ExecuteScalarAsync().ConfigureAwait(false))!;
        }

        return result;
    }

    internal static async Task<IReadOnlyDictionary<string, long>> RowCountsAsync(MySqlConnection connection)
    {
        var sql = string.Join(" UNION ALL ", ShopSchema.Tables.Select(t => $"SELECT '{t}', COUNT(*) FROM `{t}`"));
        var result = new SortedDictionary<string, long>(StringComparer.Ordinal);
        await using var command = new MySqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            result[reader.GetString(0)] = reader.GetInt64(1);
        }

        return result;
    }

    /// <summary>The server's binlog file/position and GTID set (MariaDB or MySQL 8.4 syntax).</summary>
    public static async Task<(string Gtid, string File, long Position)> BinlogPositionAsync(MySqlConnection connection)
    {
        var mariaDb = connection.ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);
        string file = "";
        long position = 0;
        // MySQL 8.4 removed SHOW MASTER STATUS; MariaDB does not know SHOW BINARY LOG STATUS.
        await using (var command = new MySqlCommand(mariaDb ? "SHOW MASTER STATUS" : "SHOW BINARY LOG STATUS", connection))
        await using (var reader = await command.ExecuteReaderAsync().ConfigureAwait(false))
        {
            if (await reader.ReadAsync().ConfigureAwait(false))
            {
                file = reader.GetString(0);
                position = Convert.ToInt64(reader.GetValue(1));
            }
        }

        await using var gtid = new MySqlCommand(mariaDb ? "SELECT @@GLOBAL.gtid_binlog_pos" : "SELECT @@GLOBAL.gtid_executed", connection);
        return (Convert.ToString(await gtid.ExecuteScalarAsync().ConfigureAwait(false)) ?? "", file, position);
    }
}
