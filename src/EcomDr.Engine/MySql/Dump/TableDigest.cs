using System.IO.Hashing;
using MySqlConnector;

namespace EcomDr.Engine.MySql.Dump;

/// <summary>
/// An order-independent digest of a table's stored columns: the row count and the sum (mod 2^64) of
/// XxHash64 over each row's SQL literal text. Computed while dumping; recomputed from a restored
/// table with the same writer, equal digests mean equal rows. CHECKSUM TABLE is not used: its value
/// depends on row format and server version, and it misreads virtual columns on MariaDB.
/// </summary>
public sealed class TableDigest
{
    private long _rows;
    private ulong _sum;

    public long Rows => Interlocked.Read(ref _rows);

    public string Value => $"{Rows}:{Volatile.Read(ref _sum):x16}";

    public void Add(ReadOnlySpan<byte> rowLiteral)
    {
        var hash = XxHash64.HashToUInt64(rowLiteral);
        ulong current, next;
        do
        {
            current = Volatile.Read(ref _sum);
            next = unchecked(current + hash);
        }
        while (Interlocked.CompareExchange(ref _sum, next, current) != current);
        Interlocked.Increment(ref _rows);
    }

    /// <summary>Digest of a table as it is now on a server (used to verify restores).</summary>
    public static async Task<string> ComputeAsync(MySqlConnection connection, TableInfo table, CancellationToken cancellationToken)
    {
        var digest = new TableDigest();
        var row = new byte[4096];
        await using var cmd = new MySqlCommand(RowSql.Select(table), connection) { CommandTimeout = 0 };
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var length = RowReader.Read(reader, ref row); // may replace the buffer: slice after it
            digest.Add(row.AsSpan(0, length));
        }

        return digest.Value;
    }
}

/// <summary>Reads the server-rendered row literal of column 0 into a reused buffer.</summary>
internal static class RowReader
{
    public static int Read(MySqlDataReader reader, ref byte[] buffer)
    {
        var length = (int)reader.GetBytes(0, 0, null, 0, 0);
        if (length > buffer.Length)
        {
            buffer = new byte[Math.Max(length, buffer.Length * 2)];
        }

        reader.GetBytes(0, 0, buffer, 0, length);
        return length;
    }
}
