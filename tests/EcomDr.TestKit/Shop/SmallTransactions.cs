using MySqlConnector;

namespace EcomDr.TestKit.Shop;

/// <summary>
/// The binlog shape that makes replay latency-bound: many tiny transactions from concurrent writers
/// (a payment ledger: one row appended, one account balance moved, per transaction), for the replay
/// benchmark and tests.
/// </summary>
public static class SmallTransactions
{
    public static async Task CreateAsync(string connectionString, string schema, int accounts)
    {
        await using var connection = await ShopGenerator.OpenAsync(connectionString).ConfigureAwait(false);
        await using var cmd = new MySqlCommand($"""
            CREATE DATABASE `{schema}`;
            CREATE TABLE `{schema}`.account (id INT PRIMARY KEY, balance BIGINT NOT NULL);
            CREATE TABLE `{schema}`.ledger (id BIGINT AUTO_INCREMENT PRIMARY KEY, account INT NOT NULL, amount INT NOT NULL, at DATETIME(6) NOT NULL, KEY by_account (account));
            INSERT INTO `{schema}`.account SELECT seq, 0 FROM `{schema}`.seq_1_to_{accounts};
            """, connection);
        await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="perWriter"/> transactions on each of <paramref name="writers"/> connections at once.</summary>
    public static async Task RunAsync(string connectionString, string schema, int accounts, int writers, int perWriter, int seed = 1)
    {
        await Task.WhenAll(Enumerable.Range(0, writers).Select(async w =>
        {
            var random = new Random(seed * 1000 + w);
            await using var connection = await ShopGenerator.OpenAsync(connectionString, schema).ConfigureAwait(false);
            for (var i = 0; i < perWriter; i++)
            {
                var account = 1 + random.Next(accounts);
                var amount = random.Next(-500, 1000);
                await using var cmd = new MySqlCommand(
                    $"START TRANSACTION; INSERT INTO ledger (account, amount, at) VALUES ({account}, {amount}, NOW(6)); UPDATE account SET balance = balance + {amount} WHERE id = {account}; COMMIT",
                    connection);
                await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
        })).ConfigureAwait(false);
    }
}
