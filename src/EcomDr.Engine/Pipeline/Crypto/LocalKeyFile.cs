using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>
/// The local key file (docs/format.md, "Local key file"): a 256-bit key that wraps data keys with
/// AES-256-GCM, and an ECDSA P-256 key that signs manifests. Its public signing key is written beside
/// it as <c>&lt;file&gt;.pub.pem</c> so auditors can verify manifests without any secret.
/// </summary>
public sealed class LocalKeyFile : IKeyProvider, IDisposable
{
    public const string ProviderName = "localFile";
    private const string FormatName = "ecomdr-key/1";
    private static readonly byte[] IdContext = "ecomdr/key-id/v1"u8.ToArray();
    private readonly byte[] _key;

    private LocalKeyFile(string path, byte[] key, ECDsa signing, DateTimeOffset created)
    {
        Path = path;
        _key = key;
        Signing = signing;
        Created = created;
        KeyId = "lk-" + Convert.ToHexString(SHA256.HashData([.. IdContext, .. key]))[..16].ToLowerInvariant();
        SigningKeyId = PublicSigningKey.IdOf(signing);
    }

    public string Path { get; }

    public string Provider => ProviderName;

    public string KeyId { get; }

    public bool CanUnwrap => true;

    public DateTimeOffset Created { get; }

    /// <summary>The manifest signing key (private).</summary>
    public ECDsa Signing { get; }

    /// <summary>Id of the signing key ("sk-..."), computed from its public half.</summary>
    public string SigningKeyId { get; }

    public string PublicKeyPath => Path + ".pub.pem";

    /// <summary>Creates a new key file (owner-only) and its public signing key; never overwrites.</summary>
    public static LocalKeyFile Create(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var key = RandomNumberGenerator.GetBytes(32);
        var signing = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var created = DateTimeOffset.UtcNow;
        var json = new JsonObject
        {
            ["format"] = FormatName,
            ["created"] = created.ToString("O"),
            ["aesKey"] = Convert.ToBase64String(key),
            ["signingKey"] = Convert.ToBase64String(signing.ExportPkcs8PrivateKey()),
        };
        KeyFilePermissions.WriteNew(full, Encoding.UTF8.GetBytes(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n"));
        var file = new LocalKeyFile(full, key, signing, created);
        File.WriteAllText(file.PublicKeyPath, signing.ExportSubjectPublicKeyInfoPem() + "\n");
        return file;
    }

    public static LocalKeyFile Load(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var bytes = KeyFilePermissions.ReadSecret(full);
        try
        {
            var json = JsonNode.Parse(bytes)!.AsObject();
            if ((string?)json["format"] != FormatName)
            {
                throw new FormatException("format");
            }

            var key = Convert.FromBase64String((string)json["aesKey"]!);
            if (key.Length != 32)
            {
                throw new FormatException("aesKey");
            }

            var signing = ECDsa.Create();
            signing.ImportPkcs8PrivateKey(Convert.FromBase64String((string)json["signingKey"]!), out _);
            return new LocalKeyFile(full, key, signing, DateTimeOffset.Parse((string)json["created"]!, System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or NullReferenceException or CryptographicException or InvalidCastException)
        {
            // Never quote the file's content: it is a secret.
            throw new EcomDrException(ErrorIds.KeyInvalid, FailureKind.InvalidData, $"{full} is not an EcomDr key file ({FormatName}).", full);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>
    /// A 32-byte key for one purpose (HKDF-SHA256 of the file's key, info "ecomdr/&lt;purpose&gt;/v1"),
    /// distinct from the wrapping key and from every other purpose's; the caller clears it.
    /// </summary>
    public byte[] DeriveKey(string purpose) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _key, 32, salt: null, info: Encoding.UTF8.GetBytes($"ecomdr/{purpose}/v1"));

    public Task<WrappedKey> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken)
    {
        var output = new byte[FrameFormat.NonceSize + dataKey.Length + FrameFormat.TagSize];
        var nonce = output.AsSpan(0, FrameFormat.NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, FrameFormat.TagSize);
        aes.Encrypt(nonce, dataKey.Span, output.AsSpan(FrameFormat.NonceSize, dataKey.Length), output.AsSpan(FrameFormat.NonceSize + dataKey.Length), Aad());
        return Task.FromResult(new WrappedKey(ProviderName, KeyId, Convert.ToBase64String(output)));
    }

    public Task<byte[]> UnwrapAsync(WrappedKey wrapped, CancellationToken cancellationToken)
    {
        if (wrapped.Provider != ProviderName || wrapped.KeyId != KeyId)
        {
            throw WrongKey(wrapped);
        }

        var input = Convert.FromBase64String(wrapped.Wrapped);
        var length = input.Length - FrameFormat.NonceSize - FrameFormat.TagSize;
        if (length <= 0)
        {
            throw WrongKey(wrapped);
        }

        var key = new byte[length];
        try
        {
            using var aes = new AesGcm(_key, FrameFormat.TagSize);
            aes.Decrypt(input.AsSpan(0, FrameFormat.NonceSize), input.AsSpan(FrameFormat.NonceSize, length), input.AsSpan(FrameFormat.NonceSize + length), key, Aad());
        }
        catch (AuthenticationTagMismatchException)
        {
            throw WrongKey(wrapped);
        }

        return Task.FromResult(key);
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_key);
        Signing.Dispose();
    }

    private byte[] Aad() => Encoding.ASCII.GetBytes("ecomdr/wrap/v1|" + KeyId);

    private EcomDrException WrongKey(WrappedKey wrapped) =>
        new(ErrorIds.WrongKey, FailureKind.PermissionDenied,
            $"Key {KeyId} ({Path}) cannot unwrap a data key wrapped by {wrapped.Provider} key {wrapped.KeyId}.", wrapped.KeyId);
}
