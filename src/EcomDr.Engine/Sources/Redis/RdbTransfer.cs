using System.Globalization;
using System.Text;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Sources.Redis;

/// <summary>
/// Asks a Redis for its RDB as a replica does (REPLCONF capa eof, REPLCONF rdb-only 1, SYNC) and reads
/// the reply's preamble: newline keepalives while the server forks, then "$&lt;length&gt;" (an RDB saved to
/// disk) or "$EOF:&lt;40-byte mark&gt;" (diskless: the RDB ends with the mark, which is not part of it).
/// Every refusal before the RDB starts is an error here, before anything is written anywhere.
/// </summary>
public sealed class RdbTransfer
{
    private const int MarkLength = 40;
    private readonly RespConnection _connection;
    private readonly long _length;
    private readonly byte[]? _mark;
    private readonly byte[] _pending = new byte[(1 << 16) + MarkLength];
    private int _count;
    private long _delivered;
    private bool _done;

    private RdbTransfer(RespConnection connection, long length, byte[]? mark, IReadOnlyList<string> warnings)
    {
        _connection = connection;
        _length = length;
        _mark = mark;
        Warnings = warnings;
    }

    /// <summary>True when the server streams the RDB without a file (repl-diskless-sync yes): its length is not known up front.</summary>
    public bool Diskless => _mark is not null;

    /// <summary>The RDB's length when the server stated it (disk-based transfer), else -1.</summary>
    public long Length => _mark is null ? _length : -1;

    public IReadOnlyList<string> Warnings { get; }

    public static async Task<RdbTransfer> StartAsync(RespConnection connection, CancellationToken ct)
    {
        var where = $"Redis at {connection.Endpoint.Display}";
        var warnings = new List<string>();
        var capa = await connection.CommandAsync(ct, "REPLCONF", "capa", "eof").ConfigureAwait(false);
        if (capa.IsError)
        {
            throw Refused(where, "REPLCONF", capa.Text);
        }

        // Without rdb-only the server would follow the RDB with its replication stream, buffered for us meanwhile.
        var rdbOnly = await connection.CommandAsync(ct, "REPLCONF", "rdb-only", "1").ConfigureAwait(false);
        if (rdbOnly.IsError)
        {
            warnings.Add($"{where} does not know REPLCONF rdb-only (Redis before 6.2): it buffers its write stream for this transfer, which counts against client-output-buffer-limit replica.");
        }

        await connection.SendAsync(ct, "SYNC").ConfigureAwait(false);
        while (true)
        {
            var first = await connection.ReadByteAsync(ct).ConfigureAwait(false);
            if (first == '\n')
            {
                continue; // a keepalive while the server prepares the RDB
            }

            var rest = await connection.ReadLineAsync(ct).ConfigureAwait(false);
            if (first == '-')
            {
                throw Refused(where, "SYNC", rest);
            }

            if (first != '$')
            {
                throw new EcomDrException(ErrorIds.ConnectionFailed, FailureKind.InvalidData, $"{where} answered SYNC with '{(char)first}{rest}', not an RDB.", connection.Endpoint.Display);
            }

            if (rest.StartsWith("EOF:", StringComparison.Ordinal) && rest.Length == 4 + MarkLength)
            {
                return new RdbTransfer(connection, -1, Encoding.ASCII.GetBytes(rest[4..]), warnings);
            }

            if (!long.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            {
                throw new EcomDrException(ErrorIds.ConnectionFailed, FailureKind.InvalidData, $"{where} announced an RDB of '{rest}' bytes.", connection.Endpoint.Display);
            }

            return new RdbTransfer(connection, length, null, warnings);
        }
    }

    /// <summary>The RDB's next bytes; 0 at its end (the end mark is never handed out).</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken ct)
    {
        if (_mark is null)
        {
            var left = _length - _delivered;
            if (left == 0)
            {
                return 0;
            }

            var n = await _connection.ReadSomeAsync(destination[..(int)Math.Min(destination.Length, left)], ct).ConfigureAwait(false);
            _delivered += n;
            return n;
        }

        while (true)
        {
            // Hold the last 40 bytes back until it is known whether they are the end mark.
            var releasable = _done ? _count : _count - MarkLength;
            if (releasable > 0)
            {
                var n = Math.Min(releasable, destination.Length);
                _pending.AsSpan(0, n).CopyTo(destination.Span);
                _pending.AsSpan(n, _count - n).CopyTo(_pending);
                _count -= n;
                _delivered += n;
                return n;
            }

            if (_done)
            {
                return 0;
            }

            _count += await _connection.ReadSomeAsync(_pending.AsMemory(_count), ct).ConfigureAwait(false);
            if (_count >= MarkLength && _pending.AsSpan(_count - MarkLength, MarkLength).SequenceEqual(_mark))
            {
                _count -= MarkLength;
                _done = true;
            }
        }
    }

    /// <summary>Bytes of the RDB handed out so far.</summary>
    public long Delivered => _delivered;

    private static EcomDrException Refused(string where, string command, string? error) =>
        error is not null && error.StartsWith("NOPERM", StringComparison.Ordinal)
            ? new EcomDrException(ErrorIds.PermissionDenied, FailureKind.PermissionDenied,
                $"{where} refused {command} to this user ({error}). Grant it: ACL SETUSER <user> +sync +replconf (not all of @admin).", where)
            : new EcomDrException(ErrorIds.ConnectionFailed, FailureKind.ResourceUnavailable, $"{where} refused {command}: {error}", where);
}
