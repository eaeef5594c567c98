using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace EcomDr.Engine.Sources.Vault;

/// <summary>
/// A digest of a secret's data map that two Vaults agree on whatever their JSON spelling: fields in
/// name order, string values unescaped (Vault escapes &lt; &gt; &amp;, another writer may not). Nested
/// objects and arrays are compared by their JSON text. It is kept in memory only, to tell changed from
/// unchanged; it is never printed or stored (a plain hash of a short value could be guessed).
/// </summary>
internal static class ValueDigest
{
    public static byte[] Of(ReadOnlySpan<byte> json)
    {
        var entries = new List<(string Name, byte[] Hash)>();
        var reader = new Utf8JsonReader(json);
        reader.Read();
        var scratch = new byte[256];
        try
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString()!;
                reader.Read();
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                hash.AppendData(Encoding.UTF8.GetBytes(name));
                hash.AppendData([0, (byte)reader.TokenType]);
                if (reader.TokenType == JsonTokenType.String)
                {
                    if (scratch.Length < reader.ValueSpan.Length)
                    {
                        CryptographicOperations.ZeroMemory(scratch);
                        scratch = new byte[reader.ValueSpan.Length * 2];
                    }

                    var n = reader.CopyString(scratch);
                    hash.AppendData(scratch.AsSpan(0, n));
                    CryptographicOperations.ZeroMemory(scratch.AsSpan(0, n));
                }
                else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    hash.AppendData(json[start..(int)reader.BytesConsumed]);
                }
                else
                {
                    hash.AppendData(reader.ValueSpan);
                }

                entries.Add((name, hash.GetHashAndReset()));
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scratch);
        }

        using var all = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (_, entry) in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            all.AppendData(entry);
        }

        return all.GetHashAndReset();
    }
}
