using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Crypto;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// Writes and reads the signed manifest envelope: {"manifest": {...}, "signature": {...}}. The
/// ECDSA P-256 signature covers the exact UTF-8 bytes of the "manifest" value as stored, so no
/// canonical form is needed and any edit (a field, whitespace inside it) breaks it. Verifying needs
/// only public keys. The value is a version-2 sealed body (<see cref="SealedManifest"/>) or a
/// version-1 plain manifest; both are read.
/// </summary>
public static class ManifestCodec
{
    public const string SignatureAlgorithm = "ECDSA-P256-SHA256";

    internal static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The signed envelope of <paramref name="manifest"/> in format <paramref name="version"/>.</summary>
    public static async Task<byte[]> EncodeAsync(BackupManifest manifest, LocalKeyFile signer, int version, IReadOnlyList<IKeyProvider> providers,
        IReadOnlyCollection<string>? publicLabels, CancellationToken cancellationToken)
    {
        manifest.SchemaVersion = version;
        var body = version switch
        {
            BackupManifest.PlainSchemaVersion => JsonSerializer.SerializeToUtf8Bytes(manifest, Options),
            BackupManifest.SealedSchemaVersion => JsonSerializer.SerializeToUtf8Bytes(
                await SealedManifest.SealAsync(manifest, providers, publicLabels, cancellationToken).ConfigureAwait(false), Options),
            _ => throw new ArgumentOutOfRangeException(nameof(version), version, "manifest format 1 or 2"),
        };
        return Envelope(body, signer.SigningKeyId, signer.Signing);
    }

    private static byte[] Envelope(byte[] body, string signerKeyId, ECDsa signingKey)
    {
        var signature = signingKey.SignData(body, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var envelope = new MemoryStream();
        envelope.Write("{\n\"manifest\": "u8);
        envelope.Write(body);
        envelope.Write(",\n\"signature\": "u8);
        envelope.Write(JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["algorithm"] = SignatureAlgorithm,
            ["keyId"] = signerKeyId,
            ["value"] = Convert.ToBase64String(signature),
        }));
        envelope.Write("\n}\n"u8);
        return envelope.ToArray();
    }

    /// <summary>
    /// Parses and verifies, then opens a sealed manifest with the first provider that can (without
    /// one, only its clear fields); every failure is an error naming what is wrong.
    /// </summary>
    public static async Task<BackupManifest> DecodeAsync(ReadOnlyMemory<byte> envelope, TrustedKeys trust, IReadOnlyList<IKeyProvider> providers, string where,
        CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(envelope);
        }
        catch (JsonException)
        {
            throw Invalid(where, "is not valid JSON");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("manifest", out var body) || body.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(where, "has no manifest object");
            }

            if (!root.TryGetProperty("signature", out var signature) || signature.ValueKind != JsonValueKind.Object)
            {
                throw new EcomDrException(ErrorIds.ManifestUnsigned, FailureKind.InvalidData, $"Manifest {where} carries no signature.", where);
            }

            var algorithm = signature.TryGetProperty("algorithm", out var a) ? a.GetString() : null;
            var keyId = signature.TryGetProperty("keyId", out var k) ? k.GetString() : null;
            var value = signature.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            if (algorithm != SignatureAlgorithm || keyId is null || value is null)
            {
                throw new EcomDrException(ErrorIds.ManifestUnsigned, FailureKind.InvalidData,
                    $"Manifest {where} has an incomplete or unknown signature ({algorithm ?? "no algorithm"}).", where);
            }

            _ = trust.Find(keyId) ?? throw new EcomDrException(ErrorIds.UntrustedSigner, FailureKind.PermissionDenied,
                $"Manifest {where} is signed by key {keyId}, which is not among the trusted keys ({trust.Describe()}).", where);
            var bytes = Encoding.UTF8.GetBytes(body.GetRawText());
            byte[] signatureBytes;
            try
            {
                signatureBytes = Convert.FromBase64String(value);
            }
            catch (FormatException)
            {
                signatureBytes = Array.Empty<byte>();
            }

            if (!trust.Verify(keyId, bytes, signatureBytes))
            {
                throw new EcomDrException(ErrorIds.ManifestSignatureInvalid, FailureKind.InvalidData,
                    $"Manifest {where} does not match its signature: it was edited after signing.", where);
            }

            var version = body.TryGetProperty("schemaVersion", out var sv) && sv.ValueKind == JsonValueKind.Number && sv.TryGetInt32(out var n) ? n : 0;
            if (version == BackupManifest.SealedSchemaVersion)
            {
                return await SealedManifest.OpenAsync(body, providers, where, cancellationToken).ConfigureAwait(false);
            }

            if (version != BackupManifest.PlainSchemaVersion)
            {
                throw Invalid(where, $"has schema version {version}; this EcomDr reads {BackupManifest.PlainSchemaVersion} and {BackupManifest.SealedSchemaVersion}");
            }

            try
            {
                return body.Deserialize<BackupManifest>(Options) ?? throw Invalid(where, "is empty");
            }
            catch (JsonException ex)
            {
                throw Invalid(where, $"does not match the manifest schema ({ex.Path})");
            }
        }
    }

    private static EcomDrException Invalid(string where, string what) =>
        new(ErrorIds.ManifestInvalid, FailureKind.InvalidData, $"Manifest {where} {what}.", where);
}
