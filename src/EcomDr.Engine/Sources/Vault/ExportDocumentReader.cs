using System.Security.Cryptography;
using System.Text.Json;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Sources.Vault;

/// <summary>
/// Reads an export document (SecretExport's format) from the decrypting artifact stream one array
/// element at a time, so a large export never sits whole in memory: each element of "sources" and
/// "secrets" is handed over as the bytes of its JSON object, valid until the next one. The buffer it
/// reads into is zeroed whenever it lets bytes go, since they hold values.
/// </summary>
internal sealed class ExportDocumentReader(Stream input, string where) : IDisposable
{
    private byte[] _buffer = new byte[1 << 16];
    private int _start;
    private int _end;
    private bool _eof;
    private bool _done;
    private JsonReaderState _state;
    private string? _property;

    public string? Format { get; private set; }

    /// <summary>Each element of a top-level array, with the array's name; the document must be whole.</summary>
    public async IAsyncEnumerable<(string Array, ReadOnlyMemory<byte> Element)> ElementsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var found = new List<(string Array, int Offset, int Length)>();
        while (true)
        {
            found.Clear();
            int consumed;
            try
            {
                consumed = Scan(_buffer.AsSpan(_start, _end - _start), found);
            }
            catch (JsonException ex)
            {
                throw Corrupt($"not valid JSON ({ex.Message})");
            }

            foreach (var (array, offset, length) in found)
            {
                yield return (array, _buffer.AsMemory(_start + offset, length));
            }

            _start += consumed;
            if (_done || _eof)
            {
                if (!_done)
                {
                    throw Corrupt("the document ends before it is complete");
                }

                yield break;
            }

            Compact();
            var read = await input.ReadAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
            _eof = read == 0;
            _end += read;
        }
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_buffer);

    // Reads whole tokens; an element is taken only once all its bytes are here, else the scan stops before it.
    private int Scan(ReadOnlySpan<byte> span, List<(string, int, int)> found)
    {
        var reader = new Utf8JsonReader(span, _eof, _state);
        var safe = 0L;
        var safeState = _state;
        while (!_done && reader.Read())
        {
            if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName)
            {
                _property = reader.GetString();
            }
            else if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.String && _property == "format")
            {
                Format = reader.GetString();
                if (Format != SecretExport.Format)
                {
                    throw Corrupt($"its format is '{Format}', not {SecretExport.Format}");
                }
            }
            else if (reader.CurrentDepth == 2 && reader.TokenType == JsonTokenType.StartObject)
            {
                var begin = (int)reader.TokenStartIndex;
                if (!reader.TrySkip())
                {
                    break;
                }

                found.Add((_property ?? "", begin, (int)reader.BytesConsumed - begin));
            }
            else if (reader.CurrentDepth == 0 && reader.TokenType == JsonTokenType.EndObject)
            {
                _done = true;
            }

            safe = reader.BytesConsumed;
            safeState = reader.CurrentState;
        }

        _state = safeState;
        return (int)safe;
    }

    // Moves what is left to the front (zeroing what it leaves behind), growing when an element fills the buffer.
    private void Compact()
    {
        var left = _end - _start;
        if (left == _buffer.Length)
        {
            var grown = new byte[_buffer.Length * 2];
            _buffer.AsSpan().CopyTo(grown);
            CryptographicOperations.ZeroMemory(_buffer);
            _buffer = grown;
        }
        else if (_start > 0)
        {
            _buffer.AsSpan(_start, left).CopyTo(_buffer);
            CryptographicOperations.ZeroMemory(_buffer.AsSpan(left, _end - left));
        }

        (_start, _end) = (0, left);
    }

    private EcomDrException Corrupt(string why) =>
        new(ErrorIds.ArtifactCorrupt, FailureKind.InvalidData, $"{where}: the Vault export is unreadable: {why}.", where);
}
