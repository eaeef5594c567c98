using System.Buffers;
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
        var writers = table.StoredColumns.Select(SqlLiteralWriter.For).ToArray();
        var row = new ArrayBufferWriter<byte>(4096);
        await using var cmd = new MySqlCommand($"SELECT {string.Join(", ", table.StoredColumns.Select(c => TableInfo.Quote(c.Name)))} FROM {table.QualifiedName}", connection)
        {
            CommandTimeout = 0,
        };
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            row.ResetWrittenCount();
            RowWriter.Write(reader, writers, row);
            digest.Add(row.WrittenSpan);
        }

        return digest.Value;
    }
}

/// <summary>Writes one row as "(v1,v2,...)".</summary>
internal static class RowWriter
{
    public static void Write(MySqlDataReader reader, Action<MySqlDataReader, int, ArrayBufferWriter<byte>>[] writers, ArrayBufferWriter<byte> output)
    {
        output.GetSpan(1)[0] = (byte)'(';
        output.Advance(1);
        for (var i = 0; i < writers.Length; i++)
        {
            if (i > 0)
            {
                output.GetSpan(1)[0] = (byte)',';
                output.Advance(1);
            }

            if (reader.IsDBNull(i))
            {
                SqlLiteralWriter.WriteNull(output);
            }
            else
            {
                writers[i](reader, i, output);
            }
        }

        output.GetSpan(1)[0] = (byte)')';
        output.Advance(1);
    }
}
