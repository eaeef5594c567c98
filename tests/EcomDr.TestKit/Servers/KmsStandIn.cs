using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EcomDr.TestKit.Servers;

/// <summary>
/// A stand-in for AWS KMS's JSON API (no KMS can run here), answering the requests EcomDr makes as the
/// API reference documents them: POST / with X-Amz-Target TrentService.GenerateDataKey, Encrypt,
/// Decrypt and ReEncrypt, in application/x-amz-json-1.1, with real AES-256-GCM under a random key per
/// KMS key. Keys are named by id, key ARN, alias or alias ARN. The encryption context is authenticated:
/// another context is InvalidCiphertextException, a KeyId that did not encrypt the blob is
/// IncorrectKeyException, an unknown key NotFoundException, a denied one AccessDeniedException, all with
/// HTTP 400 and {"__type", "message"}. The SigV4 signature is required but not checked. The ciphertext
/// blob is this stand-in's own (KMS's is opaque too).
/// </summary>
public sealed class KmsStandIn : HttpStandIn
{
    public const string Account = "111122223333";
    public const string Region = "eu-west-1";
    private readonly ConcurrentDictionary<string, byte[]> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _aliases = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<string> _denied = new();

    private KmsStandIn(int port)
        : base(port)
    {
    }

    /// <summary>Every operation called (TrentService.Encrypt, …), in order.</summary>
    public ConcurrentQueue<string> Operations { get; } = new();

    public static KmsStandIn Start() => new(ServerProcess.FreePort());

    /// <summary>A new key; returns its ARN. With an alias, "alias/&lt;alias&gt;" names it too.</summary>
    public string CreateKey(string? alias = null)
    {
        var id = Guid.NewGuid().ToString();
        _keys[id] = RandomNumberGenerator.GetBytes(32);
        if (alias is not null)
        {
            _aliases["alias/" + alias] = id;
        }

        return Arn(id);
    }

    /// <summary>Every request naming this key (or decrypting what it wrapped) is AccessDeniedException from now on.</summary>
    public void Deny(string arnOrId) => _denied.Add(Resolve(arnOrId) ?? arnOrId);

    private static string Arn(string id) => $"arn:aws:kms:{Region}:{Account}:key/{id}";

    private string? Resolve(string? keyId)
    {
        if (keyId is null)
        {
            return null;
        }

        // arn:aws:kms:<region>:<account>:key/<id> or …:alias/<name>
        var name = keyId.StartsWith("arn:aws:kms:", StringComparison.Ordinal) ? keyId.Split(':', 6)[^1] : keyId;
        if (name.StartsWith("key/", StringComparison.Ordinal))
        {
            name = name[4..];
        }

        if (name.StartsWith("alias/", StringComparison.Ordinal))
        {
            return _aliases.GetValueOrDefault(name);
        }

        return _keys.ContainsKey(name) ? name : null;
    }

    protected override async Task AnswerAsync(HttpListenerContext context)
    {
        string body;
        using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync().ConfigureAwait(false);
        }

        var target = context.Request.Headers["X-Amz-Target"] ?? "";
        Operations.Enqueue(target);
        var (status, answer) = context.Request.Headers["Authorization"] is not { Length: > 0 }
            ? (400, Error("MissingAuthenticationTokenException", "Request is missing Authentication Token"))
            : Answer(target, JsonNode.Parse(body.Length == 0 ? "{}" : body)!.AsObject());
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/x-amz-json-1.1";
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        var bytes = Encoding.UTF8.GetBytes(answer);
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        context.Response.Close();
    }

    private (int, string) Answer(string target, JsonObject request)
    {
        switch (target)
        {
            case "TrentService.Encrypt":
            case "TrentService.GenerateDataKey":
            {
                if (Usable((string?)request["KeyId"]) is { } refused)
                {
                    return refused;
                }

                var id = Resolve((string?)request["KeyId"])!;
                var generated = target.EndsWith("GenerateDataKey", StringComparison.Ordinal);
                var plain = generated ? RandomNumberGenerator.GetBytes((string?)request["KeySpec"] == "AES_128" ? 16 : 32) : Convert.FromBase64String((string)request["Plaintext"]!);
                var answer = new JsonObject { ["CiphertextBlob"] = Convert.ToBase64String(Seal(id, plain, request["EncryptionContext"])), ["KeyId"] = Arn(id), ["EncryptionAlgorithm"] = "SYMMETRIC_DEFAULT" };
                if (generated)
                {
                    answer["Plaintext"] = Convert.ToBase64String(plain);
                }

                return (200, answer.ToJsonString());
            }

            case "TrentService.Decrypt":
            case "TrentService.ReEncrypt":
            {
                var reEncrypt = target.EndsWith("ReEncrypt", StringComparison.Ordinal);
                var (id, plain, error) = Open(Convert.FromBase64String((string)request["CiphertextBlob"]!), request[reEncrypt ? "SourceEncryptionContext" : "EncryptionContext"]);
                if (error is not null)
                {
                    return error.Value;
                }

                var named = (string?)request[reEncrypt ? "SourceKeyId" : "KeyId"];
                if (named is not null && Resolve(named) != id)
                {
                    return (400, Error("IncorrectKeyException", "The key ID in the request does not identify a CMK that can perform this operation."));
                }

                if (!reEncrypt)
                {
                    return (200, new JsonObject { ["KeyId"] = Arn(id!), ["Plaintext"] = Convert.ToBase64String(plain!), ["EncryptionAlgorithm"] = "SYMMETRIC_DEFAULT" }.ToJsonString());
                }

                if (Usable((string?)request["DestinationKeyId"]) is { } refused)
                {
                    return refused;
                }

                var destination = Resolve((string?)request["DestinationKeyId"])!;
                return (200, new JsonObject
                {
                    ["CiphertextBlob"] = Convert.ToBase64String(Seal(destination, plain!, request["DestinationEncryptionContext"])),
                    ["SourceKeyId"] = Arn(id!), ["KeyId"] = Arn(destination),
                    ["SourceEncryptionAlgorithm"] = "SYMMETRIC_DEFAULT", ["DestinationEncryptionAlgorithm"] = "SYMMETRIC_DEFAULT",
                }.ToJsonString());
            }

            default:
                return (400, Error("UnknownOperationException", target));
        }
    }

    private (int, string)? Usable(string? keyId)
    {
        if (Resolve(keyId) is not { } id)
        {
            return (400, Error("NotFoundException", $"Key '{keyId}' does not exist"));
        }

        return _denied.Contains(id) ? (400, Error("AccessDeniedException", $"User is not authorized to perform kms action on resource {Arn(id)}")) : null;
    }

    // Blob: 36 ASCII bytes of the key id, 12 of nonce, the ciphertext and a 16-byte tag; the context is the associated data.
    private byte[] Seal(string id, byte[] plain, JsonNode? context)
    {
        var nonce = RandomNumberGenerator.GetBytes(12);
        var output = new byte[36 + 12 + plain.Length + 16];
        Encoding.ASCII.GetBytes(id).CopyTo(output, 0);
        nonce.CopyTo(output, 36);
        using var aes = new AesGcm(_keys[id], 16);
        aes.Encrypt(nonce, plain, output.AsSpan(48, plain.Length), output.AsSpan(48 + plain.Length), Aad(context));
        return output;
    }

    private (string? Id, byte[]? Plain, (int, string)? Error) Open(byte[] blob, JsonNode? context)
    {
        var invalid = (400, Error("InvalidCiphertextException", "The ciphertext is invalid or the encryption context does not match."));
        if (blob.Length < 36 + 12 + 16 || !_keys.ContainsKey(Encoding.ASCII.GetString(blob, 0, 36)))
        {
            return (null, null, invalid);
        }

        var id = Encoding.ASCII.GetString(blob, 0, 36);
        if (_denied.Contains(id))
        {
            return (null, null, (400, Error("AccessDeniedException", $"User is not authorized to perform kms:Decrypt on resource {Arn(id)}")));
        }

        var plain = new byte[blob.Length - 64];
        try
        {
            using var aes = new AesGcm(_keys[id], 16);
            aes.Decrypt(blob.AsSpan(36, 12), blob.AsSpan(48, plain.Length), blob.AsSpan(48 + plain.Length), plain, Aad(context));
            return (id, plain, null);
        }
        catch (AuthenticationTagMismatchException)
        {
            return (null, null, invalid);
        }
    }

    private static byte[] Aad(JsonNode? context) =>
        Encoding.UTF8.GetBytes(string.Join("\n", (context?.AsObject() ?? new JsonObject()).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={(string?)p.Value}")));

    private static string Error(string type, string message) => JsonSerializer.Serialize(new Dictionary<string, string> { ["__type"] = type, ["message"] = message });
}
