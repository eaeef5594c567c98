using System.Security.Cryptography;
using System.Text.Json;
using EcomDr.Engine.Vault;

namespace EcomDr.Engine.Sources.Vault;

/// <summary>A KV version 2 mount and the path prefix under it to export ("" for the whole mount).</summary>
public sealed record SecretSource(string Mount, string Prefix);

/// <summary>What one export held, and its keyed digest (HMAC-SHA256, hex): equal digests, equal content.</summary>
public sealed record SecretExportSummary(IReadOnlyList<string> Mounts, int Secrets, int Versions, int ValuesExported, string Digest);

/// <summary>
/// The export document (docs/format.md, "Vault export"): every secret under the sources, its metadata
/// and every version's state, and the value of the current version (of every readable version with
/// <c>allVersions</c>). It is written secret by secret into <c>output</c> (the encrypting artifact
/// stream) from a buffer that is cleared after each secret, so values never reach a file in the clear.
/// The keyed digest covers the secrets as written, not the export time: an unchanged Vault gives the
/// same digest, and the digest says nothing without the key.
/// </summary>
public static class SecretExport
{
    public const string Format = "ecomdr-vault-export/1";

    public static async Task<SecretExportSummary> WriteAsync(KvV2 kv, IReadOnlyList<SecretSource> sources, bool allVersions, byte[] digestKey, Stream output,
        DateTimeOffset exportedAt, CancellationToken ct)
    {
        using var digest = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, digestKey);
        using var buffer = new ClearingBufferWriter(1 << 16);
        using var json = new Utf8JsonWriter(buffer);
        var (secrets, versions, values) = (0, 0, 0);
        // Overlapping sources ("shop" and "shop/app") export a secret once.
        var exported = new HashSet<(string, string)>();
        try
        {
            json.WriteStartObject();
            json.WriteString("format", Format);
            json.WriteString("exportedAt", exportedAt);
            // What was exported, so a restore can tell a secret only in the target from one never exported.
            json.WriteStartArray("sources");
            foreach (var source in sources)
            {
                json.WriteStartObject();
                json.WriteString("mount", source.Mount);
                json.WriteString("prefix", source.Prefix);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("secrets");
            await FlushAsync(json, buffer, output, null, ct).ConfigureAwait(false);
            foreach (var source in sources)
            {
                // Sorted, so that the same Vault always gives the same bytes (and digest).
                var paths = new List<string>();
                await foreach (var path in kv.WalkAsync(source.Mount, source.Prefix, ct).ConfigureAwait(false))
                {
                    paths.Add(path);
                }

                foreach (var path in paths.Order(StringComparer.Ordinal).Where(p => exported.Add((source.Mount, p))))
                {
                    var metadata = await kv.ReadMetadataAsync(source.Mount, path, ct).ConfigureAwait(false);
                    values += await WriteSecretAsync(json, kv, metadata, allVersions, ct).ConfigureAwait(false);
                    secrets++;
                    versions += metadata.Versions.Count;
                    await FlushAsync(json, buffer, output, digest, ct).ConfigureAwait(false);
                }
            }

            json.WriteEndArray();
            json.WriteEndObject();
            await FlushAsync(json, buffer, output, null, ct).ConfigureAwait(false);
            return new SecretExportSummary(sources.Select(s => s.Mount).Distinct().ToList(), secrets, versions, values, Convert.ToHexString(digest.GetHashAndReset()).ToLowerInvariant());
        }
        finally
        {
            buffer.Clear();
        }
    }

    // One secret: its metadata, every version's state, and the values asked for (raw bytes, cleared once written).
    private static async Task<int> WriteSecretAsync(Utf8JsonWriter json, KvV2 kv, KvMetadata metadata, bool allVersions, CancellationToken ct)
    {
        var values = 0;
        json.WriteStartObject();
        json.WriteString("mount", metadata.Mount);
        json.WriteString("path", metadata.Path);
        json.WriteNumber("currentVersion", metadata.CurrentVersion);
        json.WriteBoolean("casRequired", metadata.CasRequired);
        json.WriteNumber("maxVersions", metadata.MaxVersions);
        json.WriteString("deleteVersionAfter", metadata.DeleteVersionAfter);
        json.WriteStartObject("customMetadata");
        foreach (var (key, value) in metadata.CustomMetadata.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            json.WriteString(key, value);
        }

        json.WriteEndObject();
        json.WriteStartArray("versions");
        foreach (var version in metadata.Versions)
        {
            json.WriteStartObject();
            json.WriteNumber("version", version.Version);
            WriteTime(json, "created", version.Created);
            WriteTime(json, "deleted", version.Deleted);
            json.WriteBoolean("destroyed", version.Destroyed);
            if (version.Readable && (allVersions || version.Version == metadata.CurrentVersion))
            {
                var read = await kv.ReadVersionAsync(metadata.Mount, metadata.Path, version.Version, ct).ConfigureAwait(false);
                if (read.Data is { } data)
                {
                    try
                    {
                        json.WritePropertyName("data");
                        json.WriteRawValue(data, skipInputValidation: true);
                        values++;
                    }
                    finally
                    {
                        CryptographicOperations.ZeroMemory(data);
                    }
                }
                else
                {
                    // Deleted between the metadata read and this one: recorded as Vault now says.
                    WriteTime(json, "deletedSinceListed", read.Deleted);
                }
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        return values;
    }

    private static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? time)
    {
        if (time is { } t)
        {
            json.WriteString(name, t);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    // Moves what the writer holds into the stream (and the digest), then clears the buffer it was in.
    private static async Task FlushAsync(Utf8JsonWriter json, ClearingBufferWriter buffer, Stream output, IncrementalHash? digest, CancellationToken ct)
    {
        json.Flush();
        digest?.AppendData(buffer.WrittenSpan);
        await output.WriteAsync(buffer.WrittenMemory, ct).ConfigureAwait(false);
        buffer.Clear();
    }
}
