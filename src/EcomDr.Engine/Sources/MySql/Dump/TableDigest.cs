using System.Buffers;
using System.IO.Hashing;
using EcomDr.Engine.Sources.MySql.Wire;

namespace EcomDr.Engine.Sources.MySql.Dump;

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

    // Runs once per row: compiled optimized at once rather than after tiering, which a fresh process's
    // first backup waited for (docs/benchmarks.md, one large table).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
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

    /// <summary>Digest of a table as it is now on a server (used to verify restores). Sets the session's time zone to UTC.</summary>
    public static async Task<string> ComputeAsync(WireConnection connection, TableInfo table, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync("SET SESSION time_zone = '+00:00'", cancellationToken).ConfigureAwait(false);
        var digest = new TableDigest();
        var renderer = new RowRenderer(table);
        var row = new ArrayBufferWriter<byte>(4096);
        var result = await connection.QueryAsync(RowRenderer.Select(table), cancellationToken).ConfigureAwait(false);
        while (await result.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            row.ResetWrittenCount();
            renderer.Render(result.Row.Span, row);
            digest.Add(row.WrittenSpan);
        }

        return digest.Value;
    }
}
