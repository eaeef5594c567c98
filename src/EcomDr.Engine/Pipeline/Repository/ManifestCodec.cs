using System.Text.Json;
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
    public const string SignatureAlgorithm = SignedEnvelope.Algorithm;

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
        return SignedEnvelope.Encode("manifest", body, signer);
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
            var body = SignedEnvelope.Verify(envelope, document.RootElement, "manifest", trust, "Manifest", where);
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
