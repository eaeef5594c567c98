using System.Buffers;
using System.Runtime.CompilerServices;

namespace EcomDr.Engine.Sources.MySql.Load;

/// <summary>
/// The statements of a dump chunk as UTF-8 bytes: one per line, the trailing ';' removed. Each line
/// is a slice of a pooled buffer, valid until the next one, so statements go to the server without
/// being decoded into strings (a line can be as long as max_allowed_packet).
/// </summary>
internal static class SqlLines
{
    public static async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadAsync(Stream stream, [EnumeratorCancellation] CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int start = 0, end = 0, scanned = 0;
            var finished = false;
            while (true)
            {
                var newline = buffer.AsSpan(scanned, end - scanned).IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    var lineEnd = scanned + newline;
                    if (Statement(buffer, start, lineEnd) is { Length: > 0 } line)
                    {
                        yield return line;
                    }

                    start = scanned = lineEnd + 1;
                    continue;
                }

                if (finished)
                {
                    if (Statement(buffer, start, end) is { Length: > 0 } last)
                    {
                        yield return last;
                    }

                    yield break;
                }

                // Keep the partial line: move it to the front, or grow the buffer for a long one.
                if (start > 0)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
                else if (end == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    Buffer.BlockCopy(buffer, 0, bigger, 0, end);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                scanned = end;
                var n = await stream.ReadAsync(buffer.AsMemory(end), ct).ConfigureAwait(false);
                finished = n == 0;
                end += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ReadOnlyMemory<byte> Statement(byte[] buffer, int start, int end)
    {
        if (end > start && buffer[end - 1] == (byte)'\r')
        {
            end--;
        }

        if (end > start && buffer[end - 1] == (byte)';')
        {
            end--;
        }

        return buffer.AsMemory(start, end - start);
    }
}
