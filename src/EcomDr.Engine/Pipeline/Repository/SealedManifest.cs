using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Crypto;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// Manifest format 2 (docs/format.md, "Sealed manifest"): what catalog listing, chain checks,
/// integrity checks and retention need stays in clear (identity, times, binlog coordinates, the labels
/// marked public, each object's opaque path, stored size and SHA-256); the whole manifest, with every
/// descriptive fact (schema and table names, row counts, server and host names, artifact names and
/// data keys), is AES-256-GCM-encrypted under a fresh manifest key wrapped by every key provider.
/// </summary>
public static class SealedManifest
{
    public const string Algorithm = SealedPart.Algorithm;

    /// <summary>Source fields that stay readable: binlog coordinates and the chain facts retention works from.</summary>
    public static readonly IReadOnlySet<string> ClearSourceFields = new HashSet<string>(StringComparer.Ordinal)
    {
        "binlogFile", "binlogPosition", "gtidSet", "chainId", "sequence", "startOffset", "partial", "nextFile", "fileCreated",
        "firstEventTime", "lastEventTime", "firstGtid", "lastGtid", "transactions", "events",
    };

    /// <summary>The clear body of a version-2 manifest, its sealed part encrypted to every provider.</summary>
    public static async Task<JsonObject> SealAsync(BackupManifest manifest, IReadOnlyList<IKeyProvider> providers, IReadOnlyCollection<string>? publicLabels,
        CancellationToken cancellationToken)
    {
        var plain = JsonSerializer.SerializeToUtf8Bytes(manifest, ManifestCodec.Options);
        try
        {
            return new JsonObject
            {
                ["schemaVersion"] = BackupManifest.SealedSchemaVersion,
                ["id"] = manifest.Id,
                ["kind"] = manifest.Kind,
                ["environment"] = manifest.Environment,
                ["startedAt"] = manifest.StartedAt,
                ["completedAt"] = manifest.CompletedAt,
                ["labels"] = new JsonObject(PublicOnly(manifest.Labels, publicLabels).Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
                ["source"] = new JsonObject(manifest.Source.Where(f => ClearSourceFields.Contains(f.Key)).Select(f => KeyValuePair.Create(f.Key, f.Value?.DeepClone()))),
                ["objects"] = new JsonArray(manifest.Artifacts.Select(a => (JsonNode)new JsonObject
                {
                    ["path"] = a.Path, ["storedSize"] = a.StoredSize, ["storedSha256"] = a.StoredSha256,
                }).ToArray()),
                ["sealed"] = await SealedPart.SealAsync(plain, providers, AssociatedData(manifest.Environment, manifest.Kind, manifest.Id), cancellationToken).ConfigureAwait(false),
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <summary>The labels a sealed manifest and object tags show: those marked public, or all of them in format 1.</summary>
    public static IEnumerable<KeyValuePair<string, string>> PublicOnly(IReadOnlyDictionary<string, string> labels, IReadOnlyCollection<string>? publicLabels) =>
        labels.Where(l => publicLabels is not null && publicLabels.Contains(l.Key, StringComparer.Ordinal));

    /// <summary>
    /// The manifest of a verified version-2 body: whole when one of the providers opens the sealed
    /// part (which must agree with the clear part), else the clear fields only, marked Sealed.
    /// </summary>
    public static async Task<BackupManifest> OpenAsync(JsonElement body, IReadOnlyList<IKeyProvider> providers, string where, CancellationToken cancellationToken)
    {
        var clear = ReadClear(body, where);
        var plain = await SealedPart.OpenAsync(body.GetProperty("sealed"), providers, AssociatedData(clear.Environment, clear.Kind, clear.Id),
            what => Invalid(where, what), cancellationToken).ConfigureAwait(false);
        if (plain is null)
        {
            clear.Sealed = true;
            return clear;
        }

        BackupManifest full;
        try
        {
            full = JsonSerializer.Deserialize<BackupManifest>(plain, ManifestCodec.Options) ?? throw Invalid(where, "has an empty sealed part");
        }
        catch (JsonException ex)
        {
            throw Invalid(where, $"has a sealed part that does not match the manifest schema ({ex.Path})");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }

        CheckAgreement(clear, full, where);
        return full;
    }

    private static BackupManifest ReadClear(JsonElement body, string where)
    {
        try
        {
            var manifest = new BackupManifest
            {
                SchemaVersion = body.GetProperty("schemaVersion").GetInt32(),
                Id = body.GetProperty("id").GetString()!,
                Kind = body.GetProperty("kind").GetString()!,
                Environment = body.GetProperty("environment").GetString()!,
                StartedAt = body.GetProperty("startedAt").GetDateTimeOffset(),
                CompletedAt = body.GetProperty("completedAt").GetDateTimeOffset(),
                Source = JsonNode.Parse(body.GetProperty("source").GetRawText())!.AsObject(),
            };
            foreach (var label in body.GetProperty("labels").EnumerateObject())
            {
                manifest.Labels[label.Name] = label.Value.GetString()!;
            }

            foreach (var o in body.GetProperty("objects").EnumerateArray())
            {
                var path = o.GetProperty("path").GetString()!;
                // Without the key an object is known by its opaque path only.
                manifest.Artifacts.Add(new ArtifactEntry { Name = path, Path = path, StoredSize = o.GetProperty("storedSize").GetInt64(), StoredSha256 = o.GetProperty("storedSha256").GetString()! });
            }

            return manifest;
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException or JsonException or NullReferenceException)
        {
            throw Invalid(where, "does not match the sealed manifest schema (version 2)");
        }
    }

    // The sealed part is the truth; the clear part is what anyone can read. They must say the same.
    private static void CheckAgreement(BackupManifest clear, BackupManifest full, string where)
    {
        var objects = clear.Artifacts.Select(a => (a.Path, a.StoredSize, a.StoredSha256)).OrderBy(a => a.Path, StringComparer.Ordinal);
        var artifacts = full.Artifacts.Select(a => (a.Path, a.StoredSize, a.StoredSha256)).OrderBy(a => a.Path, StringComparer.Ordinal);
        var agree = full.SchemaVersion == BackupManifest.SealedSchemaVersion && full.Id == clear.Id && full.Kind == clear.Kind && full.Environment == clear.Environment
            && full.StartedAt == clear.StartedAt && full.CompletedAt == clear.CompletedAt
            && clear.Labels.All(l => full.Labels.TryGetValue(l.Key, out var v) && v == l.Value)
            && clear.Source.All(f => JsonNode.DeepEquals(f.Value, full.Source[f.Key]))
            && objects.SequenceEqual(artifacts);
        if (!agree)
        {
            throw Invalid(where, "has a clear part that disagrees with its sealed part");
        }
    }

    private static byte[] AssociatedData(string environment, string kind, string id) => Encoding.UTF8.GetBytes($"ecomdr/manifest/v2|{environment}/{kind}/{id}");

    private static EcomDrException Invalid(string where, string what) =>
        new(ErrorIds.ManifestInvalid, FailureKind.InvalidData, $"Manifest {where} {what}.", where);
}
