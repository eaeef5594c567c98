using System.Text;
using System.Text.RegularExpressions;

namespace EcomDr.Engine.Sources.MySql.Wire;

/// <summary>What a LOAD DATA answered: rows it stored, and the rows it skipped and warned about (from its info text).</summary>
public sealed record LoadDataResult(long AffectedRows, long Skipped, int Warnings, string Info);

/// <summary>Where the data of a LOAD DATA LOCAL goes: packets of at most <see cref="PieceSize"/> bytes.</summary>
public sealed class LocalInfileSink
{
    // An empty packet ends the data, and a full one (16 MiB - 1) would be read as "more follows":
    // pieces stay well below it.
    internal const int PieceSize = 1 << 20;
    private readonly PacketChannel _channel;

    internal LocalInfileSink(PacketChannel channel) => _channel = channel;

    public long BytesSent { get; private set; }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        while (data.Length > 0)
        {
            var piece = data[..Math.Min(PieceSize, data.Length)];
            await _channel.WriteAsync(piece, ct).ConfigureAwait(false);
            BytesSent += piece.Length;
            data = data[piece.Length..];
        }
    }
}

public sealed partial class WireConnection
{
    /// <summary>
    /// Runs a LOAD DATA LOCAL statement and streams its data from <paramref name="content"/> (protocol
    /// docs, "LOCAL INFILE Request"). If the content fails, the data is ended so the connection stays
    /// in step, the server's answer is read and dropped, and the content's exception is thrown.
    /// </summary>
    public async Task<LoadDataResult> LoadLocalAsync(ReadOnlyMemory<byte> statement, Func<LocalInfileSink, Task> content, CancellationToken ct)
    {
        ThrowIfBroken();
        CompletedResults = 0;
        try
        {
            _channel.Sequence = 0;
            await _channel.WriteAsync(new byte[] { 0x03 }, statement, ct).ConfigureAwait(false);
            var request = await _channel.ReadAsync(ct).ConfigureAwait(false);
            switch (request.Span[0])
            {
                case 0xFF:
                    throw WireServerException.Parse(request.Span);
                case not 0xFB:
                    _broken = true;
                    throw new InvalidDataException("The server answered a LOAD DATA LOCAL without asking for its data.");
            }

            Exception? failed = null;
            try
            {
                await content(new LocalInfileSink(_channel)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not IOException)
            {
                failed = ex;
            }

            await _channel.WriteAsync(ReadOnlyMemory<byte>.Empty, ct).ConfigureAwait(false);
            var answer = await _channel.ReadAsync(ct).ConfigureAwait(false);
            if (failed is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failed).Throw();
            }

            if (answer.Span[0] == 0xFF)
            {
                throw WireServerException.Parse(answer.Span);
            }

            if (answer.Span[0] != 0x00)
            {
                _broken = true;
                throw new InvalidDataException("Expected OK or ERR after the data of a LOAD DATA LOCAL.");
            }

            CompletedResults = 1;
            return ParseLoadOk(answer.Span);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or EndOfStreamException)
        {
            _broken = true;
            throw;
        }
    }

    private static LoadDataResult ParseLoadOk(ReadOnlySpan<byte> ok)
    {
        var r = new WireReader(ok);
        r.Byte();
        var affected = (long)(r.LengthEncoded() ?? 0);
        r.LengthEncoded(); // last insert id
        r.UInt16(); // status
        var warnings = r.UInt16();
        // Without CLIENT_SESSION_TRACK the info text is the rest of the packet:
        // "Records: 3  Deleted: 0  Skipped: 0  Warnings: 0".
        var info = r.AtEnd ? "" : Encoding.UTF8.GetString(r.Rest());
        var skipped = SkippedPattern().Match(info) is { Success: true } m ? long.Parse(m.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture) : 0;
        return new LoadDataResult(affected, skipped, warnings, info);
    }

    [GeneratedRegex(@"Skipped:\s*(\d+)")]
    private static partial Regex SkippedPattern();
}
