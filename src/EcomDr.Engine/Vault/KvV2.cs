using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Vault;

/// <summary>One version of a secret as its metadata lists it.</summary>
public sealed record KvVersionInfo(int Version, DateTimeOffset? Created, DateTimeOffset? Deleted, bool Destroyed)
{
    public bool Readable => Deleted is null && !Destroyed;
}

/// <summary>A secret's metadata (GET metadata/): version-agnostic settings and every version's state.</summary>
public sealed record KvMetadata(
    string Mount,
    string Path,
    int CurrentVersion,
    IReadOnlyDictionary<string, string> CustomMetadata,
    bool CasRequired,
    int MaxVersions,
    string DeleteVersionAfter,
    IReadOnlyList<KvVersionInfo> Versions);

/// <summary>
/// One version as read: its data as the UTF-8 JSON Vault returned (the caller clears it after use),
/// or none when the version is deleted or destroyed.
/// </summary>
public sealed record KvVersion(int Version, byte[]? Data, DateTimeOffset? Deleted, bool Destroyed);

/// <summary>
/// Vault's KV version 2 engine over its documented HTTP API: walking a tree with LIST on metadata/,
/// reading metadata and versions, writing with check-and-set. Paths are relative to the mount.
/// </summary>
public sealed class KvV2(VaultConnection vault)
{
    private static readonly HttpMethod List = new("LIST");

    /// <summary>Keys asked for per LIST page where the server pages (OpenBao's after/limit); Vault ignores both and answers every key.</summary>
    public int PageSize { get; init; } = 1000;

    /// <summary>Every secret under <paramref name="prefix"/> ("" for the whole mount), depth first, in the order Vault lists them.</summary>
    public async IAsyncEnumerable<string> WalkAsync(string mount, string prefix, [EnumeratorCancellation] CancellationToken ct)
    {
        var folders = new Stack<string>();
        folders.Push(Folder(prefix));
        while (folders.TryPop(out var folder))
        {
            var keys = await ListAsync(mount, folder, ct).ConfigureAwait(false);
            foreach (var key in Enumerable.Reverse(keys).Where(k => k.EndsWith('/')))
            {
                folders.Push(folder + key);
            }

            foreach (var key in keys.Where(k => !k.EndsWith('/')))
            {
                yield return folder + key;
            }
        }
    }

    /// <summary>
    /// The keys of one folder (none when it does not exist). Pages are asked for with after/limit; a
    /// server that does not page answers the whole folder each time, which shows as a second page that
    /// starts at or before the first page's last key: the first answer then held everything.
    /// </summary>
    private async Task<List<string>> ListAsync(string mount, string folder, CancellationToken ct)
    {
        var keys = new List<string>();
        string? after = null;
        while (true)
        {
            var query = $"?limit={PageSize}" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after));
            using var answer = await vault.SendAsync(List, $"{mount}/metadata/{Escape(folder)}{query}", null, ct).ConfigureAwait(false);
            if (answer.Status == HttpStatusCode.NotFound || answer.Json is null)
            {
                return keys;
            }

            var page = answer.Json.RootElement.GetProperty("data").GetProperty("keys").EnumerateArray().Select(k => k.GetString()!).ToList();
            if (after is not null && page.Count > 0 && string.CompareOrdinal(page[0], after) <= 0)
            {
                return keys;
            }

            keys.AddRange(page);
            if (page.Count < PageSize)
            {
                return keys;
            }

            after = page[^1];
        }
    }

    /// <summary>
    /// Checks that <paramref name="mount"/> is a KV version 2 mount this token can reach, with the
    /// preflight request Vault's own CLI makes (sys/internal/ui/mounts). Vault answers 403 for a
    /// mount that does not exist as for one the policies hide, so the error says both.
    /// </summary>
    public async Task CheckMountAsync(string mount, CancellationToken ct)
    {
        VaultAnswer answer;
        try
        {
            answer = await vault.SendAsync(HttpMethod.Get, $"sys/internal/ui/mounts/{Escape(mount)}", null, ct).ConfigureAwait(false);
        }
        catch (EcomDrException ex) when (ex.Kind == FailureKind.PermissionDenied)
        {
            throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.ObjectNotFound,
                $"Vault at {vault.Address} has no KV mount '{mount}' that this token can reach: the mount does not exist, or the token's policies grant nothing under it.", mount, ex);
        }

        using (answer)
        {
            var data = answer.Status == HttpStatusCode.OK && answer.Json?.RootElement.TryGetProperty("data", out var d) == true ? d : (JsonElement?)null;
            if (data is not { } found)
            {
                throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.ObjectNotFound, $"Vault at {vault.Address} has no mount '{mount}'.", mount);
            }

            var at = found.TryGetProperty("path", out var p) ? p.GetString()?.Trim('/') : null;
            if (at is not null && at != mount)
            {
                throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument,
                    $"'{mount}' lies inside the mount '{at}': name '{at}' as the mount and '{mount[(at.Length + 1)..]}' as a prefix.", mount);
            }

            var type = found.TryGetProperty("type", out var t) ? t.GetString() : null;
            var version = found.TryGetProperty("options", out var o) && o.ValueKind == JsonValueKind.Object && o.TryGetProperty("version", out var v) ? v.GetString() : null;
            if (type != "kv" || version != "2")
            {
                throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument,
                    $"'{mount}' is a {(type == "kv" ? "KV version " + (version ?? "1") : $"'{type}'")} mount; only KV version 2 mounts are exported (versions and metadata are what a restore needs).", mount);
            }
        }
    }

    public async Task<KvMetadata> ReadMetadataAsync(string mount, string path, CancellationToken ct)
    {
        using var answer = await vault.SendAsync(HttpMethod.Get, $"{mount}/metadata/{Escape(path)}", null, ct).ConfigureAwait(false);
        if (answer.Status == HttpStatusCode.NotFound || answer.Json is null)
        {
            throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.ObjectNotFound, $"Vault has no secret '{path}' in the KV mount '{mount}'.", $"{mount}/{path}");
        }

        var data = answer.Json.RootElement.GetProperty("data");
        var custom = data.TryGetProperty("custom_metadata", out var c) && c.ValueKind == JsonValueKind.Object
            ? c.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);
        var versions = data.GetProperty("versions").EnumerateObject()
            .Select(v => new KvVersionInfo(int.Parse(v.Name, System.Globalization.CultureInfo.InvariantCulture), Time(v.Value, "created_time"), Time(v.Value, "deletion_time"),
                v.Value.TryGetProperty("destroyed", out var d) && d.GetBoolean()))
            .OrderBy(v => v.Version).ToList();
        return new KvMetadata(mount, path, data.GetProperty("current_version").GetInt32(), custom,
            data.TryGetProperty("cas_required", out var cas) && cas.GetBoolean(),
            data.TryGetProperty("max_versions", out var max) ? max.GetInt32() : 0,
            data.TryGetProperty("delete_version_after", out var after) ? after.GetString() ?? "0s" : "0s", versions);
    }

    /// <summary>
    /// One version (0: the newest). A deleted or destroyed version is returned without data: Vault
    /// answers it with 404 and its metadata, and only a 404 without metadata means there is no such version.
    /// </summary>
    public async Task<KvVersion> ReadVersionAsync(string mount, string path, int version, CancellationToken ct)
    {
        using var answer = await vault.SendAsync(HttpMethod.Get, $"{mount}/data/{Escape(path)}?version={version}", null, ct).ConfigureAwait(false);
        var body = answer.Json is { } json && json.RootElement.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Object ? d : (JsonElement?)null;
        if (body is not { } found || !found.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object)
        {
            throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.ObjectNotFound,
                $"Vault has no version {version} of '{path}' in the KV mount '{mount}'.", $"{mount}/{path}");
        }

        var number = metadata.GetProperty("version").GetInt32();
        var deleted = Time(metadata, "deletion_time");
        var destroyed = metadata.TryGetProperty("destroyed", out var x) && x.GetBoolean();
        if (answer.Status == HttpStatusCode.NotFound || !found.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
        {
            return new KvVersion(number, null, deleted, destroyed);
        }

        // The data map as bytes, not strings, copied through a buffer that is cleared (a serializer's pooled one is not): the caller clears them.
        using var buffer = new ClearingBufferWriter(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            data.WriteTo(writer);
        }

        return new KvVersion(number, buffer.WrittenSpan.ToArray(), deleted, destroyed);
    }

    /// <summary>
    /// Writes a new version with check-and-set <paramref name="cas"/> (0: only if the secret does not
    /// exist; the current version to replace it); returns the version written. A mismatch is refused
    /// by Vault and raised as <see cref="ErrorIds.SecretSourceUnavailable"/> with InvalidOperation.
    /// </summary>
    public async Task<int> WriteAsync(string mount, string path, ReadOnlyMemory<byte> data, int cas, CancellationToken ct)
    {
        var prefix = System.Text.Encoding.UTF8.GetBytes($"{{\"options\":{{\"cas\":{cas}}},\"data\":");
        var body = new byte[prefix.Length + data.Length + 1];
        prefix.CopyTo(body, 0);
        data.Span.CopyTo(body.AsSpan(prefix.Length));
        body[^1] = (byte)'}';
        try
        {
            using var answer = await vault.SendAsync(HttpMethod.Post, $"{mount}/data/{Escape(path)}", body, ct, answerBadRequest: true).ConfigureAwait(false);
            if (answer.Status == HttpStatusCode.BadRequest)
            {
                throw new EcomDrException(ErrorIds.SecretSourceUnavailable, FailureKind.InvalidOperation,
                    $"Vault refused to write '{path}' in '{mount}' with check-and-set {cas}: {(cas == 0 ? "it exists already" : "its current version is not " + cas)}.", $"{mount}/{path}");
            }

            return answer.Json!.RootElement.GetProperty("data").GetProperty("version").GetInt32();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(body);
        }
    }

    /// <summary>Sets custom_metadata and the version settings (POST metadata/); creates no version.</summary>
    public async Task WriteMetadataAsync(KvMetadata metadata, CancellationToken ct)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["max_versions"] = metadata.MaxVersions,
            ["cas_required"] = metadata.CasRequired,
            ["delete_version_after"] = metadata.DeleteVersionAfter,
            ["custom_metadata"] = metadata.CustomMetadata,
        });
        using var _ = await vault.SendAsync(HttpMethod.Post, $"{metadata.Mount}/metadata/{Escape(metadata.Path)}", body, ct).ConfigureAwait(false);
    }

    // Each segment escaped, the slashes kept: a key may hold spaces or '?'.
    private static string Escape(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    private static string Folder(string prefix) => prefix.Trim('/').Length == 0 ? "" : prefix.Trim('/') + "/";

    // Vault writes "" (or omits the field) for no time.
    private static DateTimeOffset? Time(JsonElement element, string name) =>
        element.TryGetProperty(name, out var t) && t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 } text
            ? DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture)
            : null;
}
