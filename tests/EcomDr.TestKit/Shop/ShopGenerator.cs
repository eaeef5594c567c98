using System.Text;
using MySqlConnector;

namespace EcomDr.TestKit.Shop;

/// <summary>
/// Fills a new shop schema with deterministic data: the same seed and size give byte-identical
/// tables on any server (explicit ids, fixed timestamps, seeded randomness per chunk), so tests can
/// compare checksums across instances. Bulk multi-row INSERTs, chunks loaded in parallel.
/// </summary>
public static class ShopGenerator
{
    private const int OrdersPerChunk = 1000;
    private const int RowsPerInsert = 1000;
    private static readonly DateTime Epoch = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>Creates the schema and its data. The schema must not exist yet.</summary>
    public static async Task CreateAsync(string connectionString, string schema, ShopSize size, int seed, int threads = 2)
    {
        await using (var connection = await OpenAsync(connectionString).ConfigureAwait(false))
        {
            foreach (var statement in ShopSchema.Statements(schema))
            {
                await ExecAsync(connection, statement).ConfigureAwait(false);
            }
        }

        var prices = new decimal[size.Products + 1];
        var sold = new long[size.Products + 1];
        await using (var connection = await OpenAsync(connectionString, schema).ConfigureAwait(false))
        {
            await InsertProductsAsync(connection, size, seed, prices).ConfigureAwait(false);
            await InsertCustomersAsync(connection, size, seed).ConfigureAwait(false);
        }

        var chunks = (size.Orders + OrdersPerChunk - 1) / OrdersPerChunk;
        var next = -1;
        var workers = Enumerable.Range(0, Math.Max(1, Math.Min(threads, chunks))).Select(async _ =>
        {
            await using var connection = await OpenAsync(connectionString, schema).ConfigureAwait(false);
            int chunk;
            while ((chunk = Interlocked.Increment(ref next)) < chunks)
            {
                await InsertOrderChunkAsync(connection, size, seed, chunk, prices, sold).ConfigureAwait(false);
            }
        });
        await Task.WhenAll(workers).ConfigureAwait(false);

        await using (var connection = await OpenAsync(connectionString, schema).ConfigureAwait(false))
        {
            await InsertInventoryAsync(connection, size, seed, sold).ConfigureAwait(false);
        }
    }

    internal static async Task<MySqlConnection> OpenAsync(string connectionString, string? schema = null)
    {
        // The workload uses session variables (SET @order = LAST_INSERT_ID()).
        var connection = new MySqlConnection(new MySqlConnectionStringBuilder(connectionString) { AllowUserVariables = true }.ConnectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        // Fixed zone so TIMESTAMP columns store the same instant everywhere; checks off for bulk speed.
        await ExecAsync(connection, "SET SESSION time_zone = '+00:00', foreign_key_checks = 0, unique_checks = 0").ConfigureAwait(false);
        if (schema is not null)
        {
            await connection.ChangeDatabaseAsync(schema).ConfigureAwait(false);
        }

        return connection;
    }

    internal static async Task ExecAsync(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    private static async Task InsertProductsAsync(MySqlConnection connection, ShopSize size, int seed, decimal[] prices)
    {
        var rng = new Random(Mix(seed, 1));
        await InsertRowsAsync(connection,
            "INSERT INTO products (id, sku, name, description, price, weight_grams, attributes, created_at) VALUES ",
            size.Products, (sb, i) =>
            {
                var id = i + 1;
                prices[id] = Math.Round(rng.Next(199, 250_000) / 100m, 2);
                var name = $"{rng.Pick(ShopData.Adjectives)} {rng.Pick(ShopData.Nouns)} {id}";
                var description = rng.Next(10) == 0 ? null : $"{name}: ideal para o dia a dia.\nGarantia de {rng.Next(1, 4)} anos — \"oferta\" \\ 50% off";
                var attributes = rng.Next(8) == 0 ? null
                    : $$"""{"color": "{{rng.Pick(ShopData.Colors)}}", "tags": ["novo", "caf\u00e9"], "dims": {"w": {{rng.Next(1, 100)}}.5, "h": {{rng.Next(1, 100)}}}, "fragile": {{(rng.Next(2) == 0 ? "true" : "false")}}}""";
                sb.Append('(').Append(id).Append(',').Str($"SKU-{seed}-{id:D7}").Append(',').Str(name).Append(',').Str(description)
                    .Append(',').Dec(prices[id]).Append(',').Append(rng.Next(5) == 0 ? "NULL" : rng.Next(50, 30_000).ToString())
                    .Append(',').Str(attributes).Append(',').Time(Epoch.AddSeconds(-id * 3600L).AddTicks(rng.Next(10_000_000))).Append(')');
            }).ConfigureAwait(false);
    }

    private static async Task InsertCustomersAsync(MySqlConnection connection, ShopSize size, int seed)
    {
        var rng = new Random(Mix(seed, 2));
        await InsertRowsAsync(connection,
            "INSERT INTO customers (id, email, full_name, phone, marketing_opt_in, feature_flags, tier, interests, avatar, created_at, updated_at) VALUES ",
            size.Customers, (sb, i) =>
            {
                var id = i + 1;
                var first = rng.Pick(ShopData.FirstNames);
                var full = $"{first} {rng.Pick(ShopData.LastNames)}{rng.Pick(ShopData.Emoji)}";
                var interests = string.Join(',', ShopData.Interests.Where(_ => rng.Next(3) == 0));
                var avatar = rng.Next(4) switch
                {
                    0 => null,
                    1 => Array.Empty<byte>(),
                    _ => RandomBytesWithZeros(rng, rng.Next(1, 96)),
                };
                var created = Epoch.AddSeconds(-(size.Customers - i) * 600L).AddTicks(rng.Next(10_000_000));
                sb.Append('(').Append(id).Append(',').Str($"customer{id}@{rng.Pick(ShopData.Domains)}").Append(',').Str(full)
                    .Append(',').Str(rng.Next(5) == 0 ? null : $"+55 11 9{rng.Next(1000, 9999)}-{rng.Next(1000, 9999)}")
                    .Append(',').Append(rng.Next(2) == 0 ? "b'0'" : "b'1'")
                    .Append(',').Bits(((ulong)(uint)rng.Next() << 33) | ((ulong)(uint)rng.Next() << 2) | (uint)rng.Next(4))
                    .Append(',').Str(rng.Pick(new[] { "bronze", "bronze", "silver", "gold", "platinum" }))
                    .Append(',').Str(rng.Next(6) == 0 ? null : interests)
                    .Append(',').Hex(avatar).Append(',').Time(created).Append(',').Time(TruncateSeconds(created)).Append(')');
            }).ConfigureAwait(false);
    }

    private static async Task InsertOrderChunkAsync(MySqlConnection connection, ShopSize size, int seed, int chunk, decimal[] prices, long[] sold)
    {
        var rng = new Random(Mix(seed, 1000 + chunk));
        var first = chunk * OrdersPerChunk + 1;
        var last = Math.Min(size.Orders, first + OrdersPerChunk - 1);
        var orders = new StringBuilder("INSERT INTO orders (id, customer_id, status, currency, item_count, total, notes, placed_at, updated_at) VALUES ");
        var items = new StringBuilder("INSERT INTO order_items (id, order_id, product_id, quantity, unit_price) VALUES ");
        var payments = new StringBuilder("INSERT INTO payments (id, order_id, provider, external_id, status, amount, currency, payload, created_at, captured_at) VALUES ");
        var refunds = new StringBuilder("INSERT INTO refunds (id, payment_id, amount, reason, created_at) VALUES ");
        int itemRows = 0, paymentRows = 0, refundRows = 0;
        for (var id = first; id <= last; id++)
        {
            var placed = Epoch.AddSeconds(id * 37L).AddTicks(rng.Next(10_000_000));
            var lines = rng.Next(1, 5);
            var products = Enumerable.Range(0, lines).Select(_ => rng.Next(1, size.Products + 1)).Distinct().ToArray();
            decimal total = 0;
            var count = 0;
            for (var j = 0; j < products.Length; j++)
            {
                var quantity = rng.Next(1, 4);
                var price = prices[products[j]];
                total += quantity * price;
                count += quantity;
                Interlocked.Add(ref sold[products[j]], quantity);
                items.Append(itemRows++ == 0 ? "(" : ",(").Append((long)(id - 1) * 4 + j + 1).Append(',').Append(id).Append(',')
                    .Append(products[j]).Append(',').Append(quantity).Append(',').Dec(price).Append(')');
            }

            var roll = rng.Next(100);
            var status = roll < 10 ? "pending" : roll < 80 ? "paid" : roll < 90 ? "shipped" : roll < 95 ? "refunded" : "paid";
            orders.Append(id == first ? "(" : ",(").Append(id).Append(',').Append(rng.Next(1, size.Customers + 1)).Append(',').Str(status)
                .Append(",'BRL',").Append(count).Append(',').Dec(total).Append(',')
                .Str(rng.Next(10) == 0 ? (rng.Next(2) == 0 ? "" : "Entregar na portaria 📦") : null)
                .Append(',').Time(placed).Append(',').Time(TruncateSeconds(placed.AddMinutes(5))).Append(')');

            var paymentStatus = status switch { "pending" => rng.Next(2) == 0 ? null : "rejected", "refunded" => "refunded", _ => "approved" };
            if (paymentStatus is null)
            {
                continue;
            }

            var method = rng.Pick(ShopData.PaymentMethods);
            var external = $"{seed}{id:D9}";
            var payload = $$$"""{"id": {{{external}}}, "status": "{{{paymentStatus}}}", "status_detail": "{{{(paymentStatus == "rejected" ? "cc_rejected_insufficient_amount" : "accredited")}}}", "transaction_amount": {{{total.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}, "payment_method_id": "{{{method}}}", "payer": {"email": "customer@example.com", "first_name": "J\u00falia"}, "metadata": {"order_id": {{{id}}}}}""";
            var captured = paymentStatus == "rejected" ? (DateTime?)null : placed.AddSeconds(rng.Next(5, 600));
            payments.Append(paymentRows++ == 0 ? "(" : ",(").Append(id).Append(',').Append(id).Append(",'mercadopago',").Str(external)
                .Append(',').Str(paymentStatus).Append(',').Dec(total).Append(",'BRL',").Str(payload).Append(',').Time(placed.AddSeconds(2))
                .Append(',').Append(captured is { } c ? $"'{c:yyyy-MM-dd HH:mm:ss.ffffff}'" : "NULL").Append(')');

            // Refunded orders are refunded in full; one paid order in twenty gets a partial refund.
            var refund = status == "refunded" ? total : roll >= 95 ? Math.Round(total * 0.3m, 2) : 0m;
            if (refund > 0)
            {
                refunds.Append(refundRows++ == 0 ? "(" : ",(").Append(id).Append(',').Append(id).Append(',').Dec(refund).Append(',')
                    .Str(rng.Pick(ShopData.RefundReasons)).Append(',').Time(placed.AddDays(2)).Append(')');
            }
        }

        await ExecAsync(connection, orders.ToString()).ConfigureAwait(false);
        await ExecAsync(connection, items.ToString()).ConfigureAwait(false);
        if (paymentRows > 0)
        {
            await ExecAsync(connection, payments.ToString()).ConfigureAwait(false);
        }

        if (refundRows > 0)
        {
            await ExecAsync(connection, refunds.ToString()).ConfigureAwait(false);
        }
    }

    private static async Task InsertInventoryAsync(MySqlConnection connection, ShopSize size, int seed, long[] sold)
    {
        var rng = new Random(Mix(seed, 3));
        await InsertRowsAsync(connection, "INSERT INTO inventory (product_id, received, on_hand, updated_at) VALUES ",
            size.Products, (sb, i) =>
            {
                var id = i + 1;
                var onHand = rng.Next(0, 500);
                sb.Append('(').Append(id).Append(',').Append(onHand + sold[id]).Append(',').Append(onHand).Append(',')
                    .Time(Epoch.AddSeconds(size.Orders * 37L + id)).Append(')');
            }).ConfigureAwait(false);
    }

    private static async Task InsertRowsAsync(MySqlConnection connection, string prefix, int count, Action<StringBuilder, int> row)
    {
        var sb = new StringBuilder(prefix);
        var inBatch = 0;
        for (var i = 0; i < count; i++)
        {
            if (inBatch++ > 0)
            {
                sb.Append(',');
            }

            row(sb, i);
            if (inBatch == RowsPerInsert || i == count - 1)
            {
                await ExecAsync(connection, sb.ToString()).ConfigureAwait(false);
                sb.Clear().Append(prefix);
                inBatch = 0;
            }
        }
    }

    private static byte[] RandomBytesWithZeros(Random rng, int length)
    {
        var bytes = new byte[length];
        rng.NextBytes(bytes);
        bytes[0] = 0;
        bytes[length / 2] = 0;
        return bytes;
    }

    private static DateTime TruncateSeconds(DateTime value) => new(value.Ticks - value.Ticks % TimeSpan.TicksPerSecond, value.Kind);

    private static int Mix(int seed, int stream) => unchecked(seed * 1_000_003 + stream * 7919);
}
