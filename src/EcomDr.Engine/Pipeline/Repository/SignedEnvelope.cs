using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Crypto;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// {"&lt;member&gt;": {...}, "signature": {...}}: the ECDSA P-256 signature covers the exact UTF-8
/// bytes of the member's value as stored, so no canonical form is needed and any edit breaks it.
/// The manifest and the catalog index are stored this way.
/// </summary>
internal static class SignedEnvelope
{
    public const string Algorithm = "ECDSA-P256-SHA256";

    public static byte[] Encode(string member, ReadOnlySpan<byte> body, LocalKeyFile signer)
    {
        var signature = signer.Signing.SignData(body, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var envelope = new MemoryStream(body.Length + 512);
        envelope.Write(Encoding.UTF8.GetBytes($"{{\n\"{member}\": "));
        envelope.Write(body);
        envelope.Write(",\n\"signature\": "u8);
        envelope.Write(JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["algorithm"] = Algorithm,
            ["keyId"] = signer.SigningKeyId,
            ["value"] = Convert.ToBase64String(signature),
        }));
        envelope.Write("\n}\n"u8);
        return envelope.ToArray();
    }

    /// <summary>
    /// The member's value once its signature by a trusted key is verified; <paramref name="root"/> is
    /// <paramref name="envelope"/> parsed, and <paramref name="noun"/> names the document in errors.
    /// </summary>
    public static JsonElement Verify(ReadOnlyMemory<byte> envelope, JsonElement root, string member, TrustedKeys trust, string noun, string where)
    {
        var signed = RawMember(envelope.Span, member);
        if (root.ValueKind != JsonValueKind.Object || signed is not { } range || !root.TryGetProperty(member, out var body) || body.ValueKind != JsonValueKind.Object)
        {
            throw new EcomDrException(ErrorIds.ManifestInvalid, FailureKind.InvalidData, $"{noun} {where} has no {member} object.", where);
        }

        if (!root.TryGetProperty("signature", out var signature) || signature.ValueKind != JsonValueKind.Object)
        {
            throw new EcomDrException(ErrorIds.ManifestUnsigned, FailureKind.InvalidData, $"{noun} {where} carries no signature.", where);
        }

        var algorithm = signature.TryGetProperty("algorithm", out var a) ? a.GetString() : null;
        var keyId = signature.TryGetProperty("keyId", out var k) ? k.GetString() : null;
        var value = signature.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        if (algorithm != Algorithm || keyId is null || value is null)
        {
            throw new EcomDrException(ErrorIds.ManifestUnsigned, FailureKind.InvalidData,
                $"{noun} {where} has an incomplete or unknown signature ({algorithm ?? "no algorithm"}).", where);
        }

        _ = trust.Find(keyId) ?? throw new EcomDrException(ErrorIds.UntrustedSigner, FailureKind.PermissionDenied,
            $"{noun} {where} is signed by key {keyId}, which is not among the trusted keys ({trust.Describe()}).", where);
        byte[] signatureBytes;
        try
        {
            signatureBytes = Convert.FromBase64String(value);
        }
        catch (FormatException)
        {
            signatureBytes = Array.Empty<byte>();
        }

        if (!trust.Verify(keyId, envelope.Span[range], signatureBytes))
        {
            throw new EcomDrException(ErrorIds.ManifestSignatureInvalid, FailureKind.InvalidData,
                $"{noun} {where} does not match its signature: it was edited after signing.", where);
        }

        return body;
    }

    // Where the member's value lies in the envelope, as stored; null when it is missing or there twice (the bytes signed must be the ones read).
    private static Range? RawMember(ReadOnlySpan<byte> envelope, string member)
    {
        var reader = new Utf8JsonReader(envelope);
        Range? found = null;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isMember = reader.ValueTextEquals(member);
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            if (isMember)
            {
                if (found is not null)
                {
                    return null;
                }

                found = start..(int)reader.BytesConsumed;
            }
        }

        return found;
    }
}
