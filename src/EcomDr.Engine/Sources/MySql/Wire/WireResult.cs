using System.Text;

namespace EcomDr.Engine.Sources.MySql.Wire;

/// <summary>A column of a text-protocol result.</summary>
public sealed record WireColumn(string Name, byte Type, ushort Charset, ushort Flags)
{
    /// <summary>Charset 63 is "binary": the value's bytes are not text.</summary>
    public bool IsBinary => Charset == 63;
}

/// <summary>
/// One result of a COM_QUERY: an OK (affected rows) or a result set whose rows are read one at a time.
/// <see cref="Row"/> is the current row's raw payload, valid until the next read.
/// </summary>
public sealed class WireResult
{
    private const ushort MoreResultsExist = 0x0008;
    private readonly WireConnection _connection;
    private bool _done;

    private WireResult(WireConnection connection) => _connection = connection;

    public IReadOnlyList<WireColumn> Columns { get; private set; } = Array.Empty<WireColumn>();

    public long AffectedRows { get; private set; }

    public ReadOnlyMemory<byte> Row { get; private set; }

    internal static async Task<WireResult> ReadHeaderAsync(WireConnection connection, CancellationToken ct)
    {
        var result = new WireResult(connection);
        var first = await connection.Channel.ReadAsync(ct).ConfigureAwait(false);
        switch (first.Span[0])
        {
            case 0x00:
                await result.OkAsync(first, ct).ConfigureAwait(false);
                return result;
            case 0xFF:
                throw WireServerException.Parse(first.Span);
            case 0xFB:
                connection.MarkBroken();
                throw new InvalidDataException("The server asked for LOCAL INFILE, which EcomDr never sends.");
        }

        var count = (int)new WireReader(first.Span).LengthEncoded()!.Value;
        var columns = new WireColumn[count];
        for (var i = 0; i < count; i++)
        {
            var definition = await connection.Channel.ReadAsync(ct).ConfigureAwait(false);
            columns[i] = ParseColumn(definition.Span);
        }

        var eof = await connection.Channel.ReadAsync(ct).ConfigureAwait(false);
        if (!IsEof(eof.Span))
        {
            throw new InvalidDataException("Expected EOF after the column definitions.");
        }

        result.Columns = columns;
        return result;
    }

    /// <summary>Reads the next row; false at the end of the result (then any further results are drained).</summary>
    // Runs once per row: compiled optimized at once rather than after tiering, which a fresh process's
    // first backup waited for (docs/benchmarks.md, one large table).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public ValueTask<bool> ReadAsync(CancellationToken ct)
    {
        if (_done)
        {
            return new ValueTask<bool>(false);
        }

        // Rows are small and arrive many per socket read: take buffered ones synchronously.
        var buffered = _connection.Channel.TryReadBuffered(out var packet);
        if (buffered && !IsEof(packet.Span) && packet.Span[0] != 0xFF)
        {
            Row = packet;
            return new ValueTask<bool>(true);
        }

        return ReadSlowAsync(buffered, packet, ct);
    }

    private async ValueTask<bool> ReadSlowAsync(bool buffered, ReadOnlyMemory<byte> packet, CancellationToken ct)
    {
        try
        {
            if (!buffered)
            {
                packet = await _connection.Channel.ReadAsync(ct).ConfigureAwait(false);
            }

            if (packet.Span[0] == 0xFF)
            {
                _done = true;
                throw WireServerException.Parse(packet.Span);
            }

            if (IsEof(packet.Span))
            {
                _connection.CompletedResults++;
                Row = default;
                var status = BitConverter.ToUInt16(packet.Span.Slice(3, 2));
                _done = true;
                if ((status & MoreResultsExist) != 0)
                {
                    await DrainAsync(ct).ConfigureAwait(false);
                }

                return false;
            }

            Row = packet;
            return true;
        }
        catch (Exception ex) when (ex is not WireServerException)
        {
            _connection.MarkBroken();
            throw;
        }
    }

    /// <summary>The current row's values as text (null for NULL); for small results.</summary>
    public string?[] Strings()
    {
        var values = new string?[Columns.Count];
        var r = new WireReader(Row.Span);
        for (var i = 0; i < values.Length; i++)
        {
            var bytes = r.LengthEncodedBytes(out var isNull);
            values[i] = isNull ? null : Encoding.UTF8.GetString(bytes);
        }

        return values;
    }

    private async Task OkAsync(ReadOnlyMemory<byte> ok, CancellationToken ct)
    {
        var status = Ok(ok.Span);
        _done = true;
        if ((status & MoreResultsExist) != 0)
        {
            await DrainAsync(ct).ConfigureAwait(false);
        }
    }

    private ushort Ok(ReadOnlySpan<byte> ok)
    {
        _connection.CompletedResults++;
        var r = new WireReader(ok);
        r.Byte();
        AffectedRows += (long)(r.LengthEncoded() ?? 0);
        r.LengthEncoded();
        return r.UInt16();
    }

    /// <summary>Reads and drops further results (a CALL's trailing OK), keeping the connection in step; each drains its own successors.</summary>
    private async Task DrainAsync(CancellationToken ct)
    {
        var next = await ReadHeaderAsync(_connection, ct).ConfigureAwait(false);
        while (await next.ReadAsync(ct).ConfigureAwait(false))
        {
        }

        AffectedRows += next.AffectedRows;
    }

    private static bool IsEof(ReadOnlySpan<byte> packet) => packet[0] == 0xFE && packet.Length < 9;

    private static WireColumn ParseColumn(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        r.LengthEncodedBytes(out _); // catalog
        r.LengthEncodedBytes(out _); // schema
        r.LengthEncodedBytes(out _); // table
        r.LengthEncodedBytes(out _); // original table
        var name = r.LengthEncodedString();
        r.LengthEncodedBytes(out _); // original name
        r.LengthEncoded(); // length of the fixed fields (0x0C)
        var charset = r.UInt16();
        r.UInt32(); // column length
        var type = r.Byte();
        var flags = r.UInt16();
        return new WireColumn(name, type, charset, flags);
    }
}
