using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Vault;

/// <summary>What GET &lt;mount&gt;/keys/&lt;name&gt; says about a Transit key: its versions and the policy on them.</summary>
public sealed record TransitKeyInfo(string Name, string Type, int LatestVersion, int MinDecryptionVersion, int MinEncryptionVersion,
    IReadOnlyDictionary<int, DateTimeOffset> Versions, bool SupportsEncryption);

/// <summary>
/// Vault's Transit secrets engine, the requests EcomDr makes (docs/format.md, "vaultTransit"): read a
/// key, encrypt, decrypt, rewrap and rotate. Ciphertexts are Vault's "vault:v&lt;N&gt;:&lt;base64&gt;" strings,
/// kept as they are. Plaintexts travel base64-encoded in JSON, and every buffer holding one is cleared.
/// </summary>
public static partial class Transit
{
    public static async Task<TransitKeyInfo> ReadKeyAsync(VaultConnection vault, string mount, string name, CancellationToken ct)
    {
        using var answer = await vault.SendAsync(HttpMethod.Get, $"{mount}/keys/{Uri.EscapeDataString(name)}", null, ct).ConfigureAwait(false);
        if (answer.Status == HttpStatusCode.NotFound || answer.Json is null)
        {
            throw new EcomDrException(ErrorIds.KeyNotFound, FailureKind.ObjectNotFound,
                $"Vault at {vault.Address} has no Transit key '{name}' at '{mount}/keys/{name}' (create it with: vault write -f {mount}/keys/{name}).", $"{mount}/{name}");
        }

        var data = answer.Json.RootElement.GetProperty("data");
        var versions = new Dictionary<int, DateTimeOffset>();
        foreach (var version in data.GetProperty("keys").EnumerateObject())
        {
            // Symmetric keys list each version's creation as Unix seconds.
            versions[int.Parse(version.Name, System.Globalization.CultureInfo.InvariantCulture)] = version.Value.ValueKind == JsonValueKind.Number
                ? DateTimeOffset.FromUnixTimeSeconds(version.Value.GetInt64())
                : DateTimeOffset.MinValue;
        }

        return new TransitKeyInfo(data.GetProperty("name").GetString() ?? name, data.GetProperty("type").GetString() ?? "",
            data.GetProperty("latest_version").GetInt32(), data.GetProperty("min_decryption_version").GetInt32(),
            data.TryGetProperty("min_encryption_version", out var minEnc) ? minEnc.GetInt32() : 0, versions,
            !data.TryGetProperty("supports_encryption", out var enc) || enc.GetBoolean());
    }

    /// <summary>POST encrypt/&lt;name&gt;: the ciphertext of <paramref name="plain"/> under the key's latest version.</summary>
    public static async Task<string> EncryptAsync(VaultConnection vault, string mount, string name, ReadOnlyMemory<byte> plain, CancellationToken ct)
    {
        using var answer = await PostAsync(vault, $"{mount}/encrypt/{Uri.EscapeDataString(name)}", "plaintext", Convert.ToBase64String(plain.Span), ct).ConfigureAwait(false);
        return CiphertextOf(answer, vault, name);
    }

    /// <summary>POST datakey/plaintext/&lt;name&gt; with 256 bits: a new key from Vault's generator and its ciphertext.</summary>
    public static async Task<(byte[] Plain, string Ciphertext)> DataKeyAsync(VaultConnection vault, string mount, string name, CancellationToken ct)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, int> { ["bits"] = 256 });
        using var answer = await vault.SendAsync(HttpMethod.Post, $"{mount}/datakey/plaintext/{Uri.EscapeDataString(name)}", body, ct, answerBadRequest: true).ConfigureAwait(false);
        Refused(answer, vault, name, null);
        var data = answer.Json!.RootElement.GetProperty("data");
        return (data.GetProperty("plaintext").GetBytesFromBase64(), data.GetProperty("ciphertext").GetString()!);
    }

    /// <summary>POST decrypt/&lt;name&gt;: the plaintext (the caller clears it).</summary>
    public static async Task<byte[]> DecryptAsync(VaultConnection vault, string mount, string name, string ciphertext, CancellationToken ct)
    {
        using var answer = await PostAsync(vault, $"{mount}/decrypt/{Uri.EscapeDataString(name)}", "ciphertext", ciphertext, ct).ConfigureAwait(false);
        Refused(answer, vault, name, ciphertext);
        var plain = answer.Json!.RootElement.GetProperty("data").GetProperty("plaintext");
        return plain.GetBytesFromBase64();
    }

    /// <summary>POST rewrap/&lt;name&gt;: the same plaintext under the latest version; it never leaves Vault.</summary>
    public static async Task<string> RewrapAsync(VaultConnection vault, string mount, string name, string ciphertext, CancellationToken ct)
    {
        using var answer = await PostAsync(vault, $"{mount}/rewrap/{Uri.EscapeDataString(name)}", "ciphertext", ciphertext, ct).ConfigureAwait(false);
        Refused(answer, vault, name, ciphertext);
        return CiphertextOf(answer, vault, name);
    }

    /// <summary>POST keys/&lt;name&gt;/rotate: a new latest version.</summary>
    public static async Task RotateAsync(VaultConnection vault, string mount, string name, CancellationToken ct)
    {
        using var answer = await vault.SendAsync(HttpMethod.Post, $"{mount}/keys/{Uri.EscapeDataString(name)}/rotate", null, ct).ConfigureAwait(false);
        if (answer.Status == HttpStatusCode.NotFound)
        {
            throw new EcomDrException(ErrorIds.KeyNotFound, FailureKind.ObjectNotFound, $"Vault at {vault.Address} has no Transit key '{name}' at '{mount}'.", $"{mount}/{name}");
        }
    }

    /// <summary>The key version a Transit ciphertext names ("vault:v3:…" is 3), or null when it is none.</summary>
    public static int? VersionOf(string ciphertext) =>
        CiphertextPattern().Match(ciphertext) is { Success: true } m && int.TryParse(m.Groups[1].ValueSpan, out var v) ? v : null;

    [GeneratedRegex(@"^vault:v([1-9][0-9]{0,8}):")]
    private static partial Regex CiphertextPattern();

    private static async Task<VaultAnswer> PostAsync(VaultConnection vault, string path, string field, string value, CancellationToken ct)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { [field] = value });
        try
        {
            return await vault.SendAsync(HttpMethod.Post, path, body, ct, answerBadRequest: true).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(body);
        }
    }

    private static string CiphertextOf(VaultAnswer answer, VaultConnection vault, string name)
    {
        Refused(answer, vault, name, null);
        return answer.Json!.RootElement.GetProperty("data").GetProperty("ciphertext").GetString()
            ?? throw new EcomDrException(ErrorIds.SecretSourceUnavailable, FailureKind.InvalidData, $"Vault at {vault.Address} answered Transit key '{name}' without a ciphertext.", name);
    }

    // 400 is Vault's answer to a ciphertext it will not open (too old for min_decryption_version, another key's, damaged).
    private static void Refused(VaultAnswer answer, VaultConnection vault, string name, string? ciphertext)
    {
        if (answer.Status == HttpStatusCode.OK && answer.Json is not null)
        {
            return;
        }

        var errors = answer.Json?.RootElement.TryGetProperty("errors", out var e) == true && e.ValueKind == JsonValueKind.Array
            ? string.Join("; ", e.EnumerateArray().Select(x => x.GetString())) : "";
        var version = ciphertext is null ? null : VersionOf(ciphertext);
        if (answer.Status == HttpStatusCode.NotFound)
        {
            throw new EcomDrException(ErrorIds.KeyNotFound, FailureKind.ObjectNotFound, $"Vault at {vault.Address} has no Transit key '{name}'.", name);
        }

        throw new EcomDrException(ErrorIds.WrongKey, FailureKind.PermissionDenied,
            $"Vault at {vault.Address} refused Transit key '{name}'{(version is { } v ? $" version {v}" : "")}: {(errors.Length > 0 ? errors : $"answer {(int)answer.Status}")}." +
            (errors.Contains("too old", StringComparison.OrdinalIgnoreCase) ? " The key's min_decryption_version is above it: lower it, or open the backup with another key (the local key file)." : ""),
            name);
    }
}
