using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Crypto;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// The "sealed" member of a sealed manifest or of the catalog index: bytes encrypted with AES-256-GCM
/// under a fresh key, that key wrapped by every key provider, bound to what it belongs to by the
/// associated data (so a sealed part moved to another document does not open).
/// </summary>
internal static class SealedPart
{
    public const string Algorithm = "AES-256-GCM";

    public static async Task<JsonObject> SealAsync(ReadOnlyMemory<byte> plain, IReadOnlyList<IKeyProvider> providers, byte[] associatedData, CancellationToken ct) =>
        (await EncryptAsync(plain, providers, associatedData, ct).ConfigureAwait(false)).ToJson();

    /// <summary>The sealed member, written straight to <paramref name="json"/>: a big part is never turned into one base64 string.</summary>
    public static async Task WriteAsync(Utf8JsonWriter json, ReadOnlyMemory<byte> plain, IReadOnlyList<IKeyProvider> providers, byte[] associatedData, CancellationToken ct)
    {
        var part = await EncryptAsync(plain, providers, associatedData, ct).ConfigureAwait(false);
        json.WriteStartObject();
        json.WriteString("algorithm", Algorithm);
        json.WritePropertyName("keys");
        part.Keys.WriteTo(json);
        json.WriteBase64String("nonce", part.Nonce);
        json.WriteBase64String("ciphertext", part.Bytes);
        json.WriteEndObject();
    }

    private sealed record Encrypted(JsonArray Keys, byte[] Nonce, byte[] Bytes)
    {
        public JsonObject ToJson() => new()
        {
            ["algorithm"] = Algorithm,
            ["keys"] = Keys,
            ["nonce"] = Convert.ToBase64String(Nonce),
            ["ciphertext"] = Convert.ToBase64String(Bytes),
        };
    }

    private static async Task<Encrypted> EncryptAsync(ReadOnlyMemory<byte> plain, IReadOnlyList<IKeyProvider> providers, byte[] associatedData, CancellationToken ct)
    {
        var (key, keys) = await DataKeys.NewAsync(providers, ct).ConfigureAwait(false);
        try
        {
            var wrapped = new JsonArray(keys.Select(w => (JsonNode)new JsonObject { ["provider"] = w.Provider, ["keyId"] = w.KeyId, ["wrapped"] = w.Wrapped }).ToArray());

            var nonce = RandomNumberGenerator.GetBytes(12);
            var sealedBytes = new byte[plain.Length + 16];
            using (var aes = new AesGcm(key, 16))
            {
                aes.Encrypt(nonce, plain.Span, sealedBytes.AsSpan(0, plain.Length), sealedBytes.AsSpan(plain.Length), associatedData);
            }

            return new Encrypted(wrapped, nonce, sealedBytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// The plain bytes (the caller clears them), or null when no provider can unwrap the key. A part
    /// that does not open under its key is <see cref="ErrorIds.ManifestInvalid"/> with what <paramref name="invalid"/> makes of its reason.
    /// </summary>
    public static async Task<byte[]?> OpenAsync(JsonElement sealedPart, IReadOnlyList<IKeyProvider> providers, byte[] associatedData,
        Func<string, EcomDrException> invalid, CancellationToken ct)
    {
        var keys = sealedPart.GetProperty("keys").Deserialize<List<WrappedKey>>(ManifestCodec.Options) ?? new List<WrappedKey>();
        var opener = providers.SelectMany(p => keys.Where(p.Opens).Select(k => (Provider: p, Wrapped: k)))
            .FirstOrDefault();
        if (opener.Provider is null)
        {
            return null;
        }

        var key = await opener.Provider.UnwrapAsync(opener.Wrapped, ct).ConfigureAwait(false);
        try
        {
            var nonce = sealedPart.GetProperty("nonce").GetBytesFromBase64();
            var sealedBytes = sealedPart.GetProperty("ciphertext").GetBytesFromBase64();
            if (nonce.Length != 12 || sealedBytes.Length < 16)
            {
                throw invalid("has a malformed sealed part");
            }

            var plain = new byte[sealedBytes.Length - 16];
            using var aes = new AesGcm(key, 16);
            aes.Decrypt(nonce, sealedBytes.AsSpan(0, plain.Length), sealedBytes.AsSpan(plain.Length), plain, associatedData);
            return plain;
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or AuthenticationTagMismatchException or CryptographicException)
        {
            throw invalid("has a sealed part that does not open under its key: it belongs to another backup or was altered");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
