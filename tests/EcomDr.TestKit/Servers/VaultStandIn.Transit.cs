using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace EcomDr.TestKit.Servers;

/// <summary>
/// The Transit secrets engine as its API documentation describes the requests EcomDr makes, with real
/// AES-256-GCM under a random key per version: GET keys/&lt;name&gt; (latest_version,
/// min_decryption_version, keys with each version's creation in Unix seconds), POST keys/&lt;name&gt;/rotate,
/// POST keys/&lt;name&gt;/config (min_decryption_version), POST encrypt/&lt;name&gt; (an unknown key is created,
/// as Vault's upsert does), decrypt/&lt;name&gt;, rewrap/&lt;name&gt; and datakey/plaintext/&lt;name&gt;.
/// Ciphertexts are "vault:v&lt;N&gt;:" and base64 of nonce, ciphertext and tag. A version below
/// min_decryption_version is refused with 400 "ciphertext or signature version is disallowed by policy
/// (too old)", one that does not authenticate with 400 "cipher: message authentication failed".
/// </summary>
public sealed partial class VaultStandIn
{
    private readonly Dictionary<string, TransitKey> _transit = new(StringComparer.Ordinal);

    /// <summary>Declares a Transit mount with a key in it (version 1).</summary>
    public void AddTransitKey(string mount, string name)
    {
        AddMount(mount, "transit", "");
        lock (_gate)
        {
            _transit[$"{mount}/{name}"] = new TransitKey();
        }
    }

    /// <summary>The key's latest version after a rotation (as keys/&lt;name&gt;/rotate does).</summary>
    public int RotateTransitKey(string mount, string name)
    {
        lock (_gate)
        {
            return _transit[$"{mount}/{name}"].Rotate();
        }
    }

    public void SetMinDecryptionVersion(string mount, string name, int version)
    {
        lock (_gate)
        {
            _transit[$"{mount}/{name}"].MinDecryptionVersion = version;
        }
    }

    /// <summary>How many requests each Transit operation got (encrypt, decrypt, rewrap, …).</summary>
    public int TransitCalls(string operation) => Requests.Count(r => r.Contains($"/{operation}/", StringComparison.Ordinal));

    private (int, string?) AnswerTransit(string method, string mount, string operation, string rest, string body)
    {
        lock (_gate)
        {
            var name = operation == "datakey" ? rest.Split('/', 2)[^1] : rest.Split('/')[0];
            var exists = _transit.TryGetValue($"{mount}/{name}", out var key);
            switch (operation, method)
            {
                case ("keys", "GET") when !rest.Contains('/', StringComparison.Ordinal):
                    return exists ? (200, new JsonObject { ["data"] = key!.Describe(name) }.ToJsonString()) : (404, Errors());
                case ("keys", "POST") when rest.EndsWith("/rotate", StringComparison.Ordinal):
                    if (!exists)
                    {
                        return (404, Errors());
                    }

                    key!.Rotate();
                    return (200, new JsonObject { ["data"] = key.Describe(name) }.ToJsonString());
                case ("keys", "POST") when rest.EndsWith("/config", StringComparison.Ordinal):
                    if (!exists)
                    {
                        return (404, Errors());
                    }

                    var wanted = (int?)JsonNode.Parse(body)?["min_decryption_version"];
                    if (wanted is { } min && (min < 1 || min > key!.Latest))
                    {
                        return (400, Errors("cannot set min decryption version to a value greater than the latest version"));
                    }

                    key!.MinDecryptionVersion = wanted ?? key.MinDecryptionVersion;
                    return (200, new JsonObject { ["data"] = key.Describe(name) }.ToJsonString());
                case ("encrypt", "POST"):
                {
                    if (!exists)
                    {
                        _transit[$"{mount}/{name}"] = key = new TransitKey();
                    }

                    var plain = Base64((string?)JsonNode.Parse(body)?["plaintext"]);
                    return plain is null ? (400, Errors("failed to base64-decode plaintext"))
                        : (200, new JsonObject { ["data"] = new JsonObject { ["ciphertext"] = key!.Encrypt(plain), ["key_version"] = key.Latest } }.ToJsonString());
                }

                case ("decrypt" or "rewrap", "POST"):
                {
                    if (!exists)
                    {
                        return (400, Errors("encryption key not found"));
                    }

                    var (plain, error) = key!.Decrypt((string?)JsonNode.Parse(body)?["ciphertext"]);
                    if (plain is null)
                    {
                        return (400, Errors(error!));
                    }

                    var data = operation == "decrypt"
                        ? new JsonObject { ["plaintext"] = Convert.ToBase64String(plain) }
                        : new JsonObject { ["ciphertext"] = key.Encrypt(plain), ["key_version"] = key.Latest };
                    return (200, new JsonObject { ["data"] = data }.ToJsonString());
                }

                case ("datakey", "POST") when rest.StartsWith("plaintext/", StringComparison.Ordinal):
                {
                    if (!exists)
                    {
                        return (400, Errors("encryption key not found"));
                    }

                    var bits = (int?)JsonNode.Parse(body.Length == 0 ? "{}" : body)?["bits"] ?? 256;
                    var plain = RandomNumberGenerator.GetBytes(bits / 8);
                    return (200, new JsonObject
                    {
                        ["data"] = new JsonObject { ["plaintext"] = Convert.ToBase64String(plain), ["ciphertext"] = key!.Encrypt(plain), ["key_version"] = key.Latest },
                    }.ToJsonString());
                }

                default:
                    return (405, Errors("unsupported operation"));
            }
        }
    }

    private static byte[]? Base64(string? text)
    {
        try
        {
            return text is null ? null : Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private sealed class TransitKey
    {
        private readonly List<(byte[] Key, DateTimeOffset Created)> _versions = [(RandomNumberGenerator.GetBytes(32), DateTimeOffset.UtcNow)];

        public int Latest => _versions.Count;

        public int MinDecryptionVersion { get; set; } = 1;

        public int Rotate()
        {
            _versions.Add((RandomNumberGenerator.GetBytes(32), DateTimeOffset.UtcNow));
            return Latest;
        }

        public JsonObject Describe(string name) => new()
        {
            ["name"] = name,
            ["type"] = "aes256-gcm96",
            ["latest_version"] = Latest,
            ["min_decryption_version"] = MinDecryptionVersion,
            ["min_encryption_version"] = 0,
            ["min_available_version"] = 0,
            ["deletion_allowed"] = false,
            ["exportable"] = false,
            ["supports_encryption"] = true,
            ["supports_decryption"] = true,
            ["supports_derivation"] = true,
            ["supports_signing"] = false,
            ["keys"] = new JsonObject(_versions.Select((v, i) => KeyValuePair.Create((i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                (JsonNode?)JsonValue.Create(v.Created.ToUnixTimeSeconds())))),
        };

        public string Encrypt(byte[] plain)
        {
            var nonce = RandomNumberGenerator.GetBytes(12);
            var sealedBytes = new byte[plain.Length + 16];
            using var aes = new AesGcm(_versions[^1].Key, 16);
            aes.Encrypt(nonce, plain, sealedBytes.AsSpan(0, plain.Length), sealedBytes.AsSpan(plain.Length));
            return $"vault:v{Latest}:" + Convert.ToBase64String([.. nonce, .. sealedBytes]);
        }

        public (byte[]? Plain, string? Error) Decrypt(string? ciphertext)
        {
            var parts = ciphertext?.Split(':', 3);
            if (parts is not { Length: 3 } || parts[0] != "vault" || !parts[1].StartsWith('v') || !int.TryParse(parts[1][1..], out var version) || Base64(parts[2]) is not { Length: > 28 } bytes)
            {
                return (null, "invalid ciphertext: no prefix");
            }

            if (version < MinDecryptionVersion)
            {
                return (null, "ciphertext or signature version is disallowed by policy (too old)");
            }

            if (version > Latest)
            {
                return (null, "invalid key version");
            }

            var plain = new byte[bytes.Length - 28];
            try
            {
                using var aes = new AesGcm(_versions[version - 1].Key, 16);
                aes.Decrypt(bytes.AsSpan(0, 12), bytes.AsSpan(12, plain.Length), bytes.AsSpan(12 + plain.Length), plain);
                return (plain, null);
            }
            catch (AuthenticationTagMismatchException)
            {
                return (null, "cipher: message authentication failed");
            }
        }
    }
}
