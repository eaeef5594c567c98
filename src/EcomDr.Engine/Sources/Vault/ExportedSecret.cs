using System.Security.Cryptography;
using System.Text.Json;
using EcomDr.Engine.Vault;

namespace EcomDr.Engine.Sources.Vault;

/// <summary>One version of an exported secret: its state, and its data (JSON bytes) when it was exported.</summary>
public sealed record ExportedVersion(int Version, DateTimeOffset? Created, DateTimeOffset? Deleted, bool Destroyed, byte[]? Data);

/// <summary>
/// One secret of an export document: its metadata, and the versions with the data exported. The
/// data arrays are the only copies of values; Dispose zeroes them.
/// </summary>
public sealed class ExportedSecret : IDisposable
{
    private ExportedSecret(KvMetadata metadata, IReadOnlyList<ExportedVersion> versions) => (Metadata, Versions) = (metadata, versions);

    /// <summary>The settings and custom_metadata to restore (its Versions list what the source had).</summary>
    public KvMetadata Metadata { get; }

    public IReadOnlyList<ExportedVersion> Versions { get; }

    public string FullPath => $"{Metadata.Mount}/{Metadata.Path}";

    /// <summary>The data of a version (0: the current one), or null when it was not exported (deleted, destroyed, or not asked for).</summary>
    public byte[]? DataOf(int version) =>
        Versions.FirstOrDefault(v => v.Version == (version == 0 ? Metadata.CurrentVersion : version))?.Data;

    public void Dispose()
    {
        foreach (var version in Versions)
        {
            if (version.Data is { } data)
            {
                CryptographicOperations.ZeroMemory(data);
            }
        }
    }

    /// <summary>Parses one element of the document's "secrets" array.</summary>
    internal static ExportedSecret Parse(ReadOnlyMemory<byte> element)
    {
        using var document = JsonDocument.Parse(element);
        var root = document.RootElement;
        var custom = root.GetProperty("customMetadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
        var versions = new List<ExportedVersion>();
        using var buffer = new ClearingBufferWriter(1024);
        foreach (var v in root.GetProperty("versions").EnumerateArray())
        {
            byte[]? data = null;
            if (v.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Object)
            {
                // Copied through a buffer that is cleared: the caller owns (and zeroes) the array.
                using (var writer = new Utf8JsonWriter(buffer))
                {
                    d.WriteTo(writer);
                }

                data = buffer.WrittenSpan.ToArray();
                buffer.Clear();
            }

            versions.Add(new ExportedVersion(v.GetProperty("version").GetInt32(), Time(v, "created"), Time(v, "deleted"), v.GetProperty("destroyed").GetBoolean(), data));
        }

        var metadata = new KvMetadata(root.GetProperty("mount").GetString()!, root.GetProperty("path").GetString()!, root.GetProperty("currentVersion").GetInt32(), custom,
            root.GetProperty("casRequired").GetBoolean(), root.GetProperty("maxVersions").GetInt32(), root.GetProperty("deleteVersionAfter").GetString() ?? "0s",
            versions.Select(x => new KvVersionInfo(x.Version, x.Created, x.Deleted, x.Destroyed)).ToList());
        return new ExportedSecret(metadata, versions);
    }

    private static DateTimeOffset? Time(JsonElement element, string name) =>
        element.TryGetProperty(name, out var t) && t.ValueKind == JsonValueKind.String ? t.GetDateTimeOffset() : null;
}
