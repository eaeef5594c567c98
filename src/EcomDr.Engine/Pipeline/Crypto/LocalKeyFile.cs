using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>
/// The local key file (docs/format.md, "Local key file"): versions of a 256-bit key that wraps data keys
/// with AES-256-GCM and of an ECDSA P-256 key that signs manifests. The newest version wraps and signs;
/// every version still held unwraps, so backups stay readable while a rotation re-wraps them
/// (Update-DrKey). Its public signing keys, retired ones included, are written beside it as
/// <c>&lt;file&gt;.pub.pem</c> so auditors can verify manifests without any secret.
/// </summary>
public sealed class LocalKeyFile : IRotatingKeyProvider, IDisposable
{
    public const string ProviderName = "localFile";
    private const string FormatName = "ecomdr-key/2";
    private const string FirstFormatName = "ecomdr-key/1";
    private readonly LocalKeyVersion[] _versions;

    private LocalKeyFile(string path, LocalKeyVersion[] versions, RetiredSigningKey[] retired)
    {
        Path = path;
        _versions = versions;
        Retired = retired;
    }

    public string Path { get; }

    public string Provider => ProviderName;

    /// <summary>The newest version: the one that wraps and signs.</summary>
    public LocalKeyVersion Current => _versions[^1];

    /// <summary>Every version held, oldest first.</summary>
    public IReadOnlyList<LocalKeyVersion> Versions => _versions;

    public IReadOnlyList<RetiredSigningKey> Retired { get; }

    public string KeyId => Current.KeyId;

    public int Version => Current.Version;

    public bool CanUnwrap => true;

    public DateTimeOffset Created => Current.Created;

    /// <summary>The manifest signing key (private) of the current version.</summary>
    public ECDsa Signing => Current.Signing;

    /// <summary>Id of the current signing key ("sk-..."), computed from its public half.</summary>
    public string SigningKeyId => Current.SigningKeyId;

    public string PublicKeyPath => Path + ".pub.pem";

    /// <summary>Creates a new key file (owner-only) and its public signing key; never overwrites.</summary>
    public static LocalKeyFile Create(string path)
    {
        var file = new LocalKeyFile(System.IO.Path.GetFullPath(path), [LocalKeyVersion.New(1)], []);
        KeyFilePermissions.WriteNew(file.Path, file.Serialize());
        file.WritePublicKeys();
        return file;
    }

    public static LocalKeyFile Load(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var bytes = KeyFilePermissions.ReadSecret(full);
        try
        {
            var json = JsonNode.Parse(bytes)!.AsObject();
            var format = (string?)json["format"];
            if (format == FirstFormatName)
            {
                return new LocalKeyFile(full, [ReadVersion(json, 1)], []);
            }

            if (format != FormatName)
            {
                throw new FormatException("format");
            }

            var versions = json["versions"]!.AsArray().Select(v => ReadVersion(v!.AsObject(), (int)v["version"]!)).OrderBy(v => v.Version).ToArray();
            if (versions.Length == 0 || versions.Select(v => v.Version).Distinct().Count() != versions.Length)
            {
                throw new FormatException("versions");
            }

            var retired = (json["retiredSigningKeys"]?.AsArray() ?? new JsonArray()).Select(r => ReadRetired(r!.AsObject())).ToArray();
            return new LocalKeyFile(full, versions, retired);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or NullReferenceException or CryptographicException or InvalidCastException)
        {
            // Never quote the file's content: it is a secret.
            throw new EcomDrException(ErrorIds.KeyInvalid, FailureKind.InvalidData, $"{full} is not an EcomDr key file ({FormatName} or {FirstFormatName}).", full);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    public int CurrentVersion => Current.Version;

    public Task RefreshAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The version a key id of this file names, or null.</summary>
    public LocalKeyVersion? FindVersion(string keyId) => _versions.FirstOrDefault(v => v.KeyId == keyId);

    public bool Opens(WrappedKey wrapped) => wrapped.Provider == ProviderName && FindVersion(wrapped.KeyId) is not null;

    public int? VersionOf(WrappedKey wrapped) => wrapped.Provider == ProviderName ? FindVersion(wrapped.KeyId)?.Version : null;

    public async Task<WrappedKey> RewrapAsync(WrappedKey wrapped, CancellationToken cancellationToken)
    {
        var key = await UnwrapAsync(wrapped, cancellationToken).ConfigureAwait(false);
        try
        {
            return await WrapAsync(key, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Every public signing key this file vouches for: its versions', then the retired ones.</summary>
    public IEnumerable<(string KeyId, byte[] SubjectPublicKeyInfo)> SigningPublicKeys() =>
        Enumerable.Reverse(_versions).Select(v => (v.SigningKeyId, v.Signing.ExportSubjectPublicKeyInfo()))
            .Concat(Retired.Select(r => (r.SigningKeyId, r.SubjectPublicKeyInfo)));

    /// <summary>
    /// Writes the file again with a new version added and returns it loaded (this instance stays as it
    /// was). The file is replaced atomically: a crash leaves the old file or the new one, never a mix.
    /// </summary>
    public LocalKeyFile AddVersion()
    {
        var next = new LocalKeyFile(Path, [.. _versions.Select(Copy), LocalKeyVersion.New(Current.Version + 1)], Retired.ToArray());
        next.Replace();
        return next;
    }

    /// <summary>
    /// Writes the file again without the given versions (never the current one) and returns it loaded.
    /// Their public signing keys stay, retired, so what they signed still verifies.
    /// </summary>
    public LocalKeyFile RemoveVersions(IReadOnlySet<int> versions)
    {
        if (versions.Contains(Current.Version))
        {
            throw new ArgumentException("The current version cannot be removed.", nameof(versions));
        }

        var now = DateTimeOffset.UtcNow;
        var retired = Retired.Concat(_versions.Where(v => versions.Contains(v.Version))
            .Select(v => new RetiredSigningKey(v.Version, v.SigningKeyId, v.Signing.ExportSubjectPublicKeyInfo(), now))).ToArray();
        var next = new LocalKeyFile(Path, _versions.Where(v => !versions.Contains(v.Version)).Select(Copy).ToArray(), retired);
        next.Replace();
        return next;
    }

    /// <summary>
    /// A 32-byte key for one purpose (HKDF-SHA256 of the current version's key, info
    /// "ecomdr/&lt;purpose&gt;/v1"), distinct from the wrapping key and from every other purpose's; the
    /// caller clears it.
    /// </summary>
    public byte[] DeriveKey(string purpose) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, Current.Key, 32, salt: null, info: Encoding.UTF8.GetBytes($"ecomdr/{purpose}/v1"));

    public Task<WrappedKey> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken)
    {
        var version = Current;
        var output = new byte[FrameFormat.NonceSize + dataKey.Length + FrameFormat.TagSize];
        var nonce = output.AsSpan(0, FrameFormat.NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(version.Key, FrameFormat.TagSize);
        aes.Encrypt(nonce, dataKey.Span, output.AsSpan(FrameFormat.NonceSize, dataKey.Length), output.AsSpan(FrameFormat.NonceSize + dataKey.Length), Aad(version.KeyId));
        return Task.FromResult(new WrappedKey(ProviderName, version.KeyId, Convert.ToBase64String(output)));
    }

    public Task<byte[]> UnwrapAsync(WrappedKey wrapped, CancellationToken cancellationToken)
    {
        if (wrapped.Provider != ProviderName || FindVersion(wrapped.KeyId) is not { } version)
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
            using var aes = new AesGcm(version.Key, FrameFormat.TagSize);
            aes.Decrypt(input.AsSpan(0, FrameFormat.NonceSize), input.AsSpan(FrameFormat.NonceSize, length), input.AsSpan(FrameFormat.NonceSize + length), key, Aad(version.KeyId));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw WrongKey(wrapped);
        }

        return Task.FromResult(key);
    }

    public void Dispose()
    {
        foreach (var version in _versions)
        {
            version.Dispose();
        }
    }

    private static LocalKeyVersion ReadVersion(JsonObject json, int version)
    {
        var key = Convert.FromBase64String((string)json["aesKey"]!);
        if (key.Length != 32 || version < 1)
        {
            throw new FormatException("aesKey");
        }

        var signing = ECDsa.Create();
        signing.ImportPkcs8PrivateKey(Convert.FromBase64String((string)json["signingKey"]!), out _);
        return new LocalKeyVersion(version, DateTimeOffset.Parse((string)json["created"]!, CultureInfo.InvariantCulture), key, signing);
    }

    private static RetiredSigningKey ReadRetired(JsonObject json)
    {
        var spki = Convert.FromBase64String((string)json["publicKey"]!);
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(spki, out _);
        return new RetiredSigningKey((int)json["version"]!, PublicSigningKey.IdOf(key), spki, DateTimeOffset.Parse((string)json["retired"]!, CultureInfo.InvariantCulture));
    }

    private static LocalKeyVersion Copy(LocalKeyVersion v)
    {
        var signing = ECDsa.Create();
        signing.ImportPkcs8PrivateKey(v.Signing.ExportPkcs8PrivateKey(), out _);
        return new LocalKeyVersion(v.Version, v.Created, v.Key.ToArray(), signing);
    }

    private byte[] Serialize()
    {
        var json = new JsonObject
        {
            ["format"] = FormatName,
            ["versions"] = new JsonArray(_versions.Select(v => (JsonNode)new JsonObject
            {
                ["version"] = v.Version,
                ["created"] = v.Created.ToString("O", CultureInfo.InvariantCulture),
                ["aesKey"] = Convert.ToBase64String(v.Key),
                ["signingKey"] = Convert.ToBase64String(v.Signing.ExportPkcs8PrivateKey()),
            }).ToArray()),
            ["retiredSigningKeys"] = new JsonArray(Retired.Select(r => (JsonNode)new JsonObject
            {
                ["version"] = r.Version,
                ["publicKey"] = Convert.ToBase64String(r.SubjectPublicKeyInfo),
                ["retired"] = r.Retired.ToString("O", CultureInfo.InvariantCulture),
            }).ToArray()),
        };
        return Encoding.UTF8.GetBytes(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private void Replace()
    {
        var bytes = Serialize();
        try
        {
            KeyFilePermissions.Replace(Path, bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }

        WritePublicKeys();
    }

    // Current key first: a reader that takes only the first PEM block gets the one that signs now.
    private void WritePublicKeys()
    {
        var pem = new StringBuilder();
        foreach (var (_, spki) in SigningPublicKeys())
        {
            pem.Append(PemEncoding.Write("PUBLIC KEY", spki)).Append('\n');
        }

        var temporary = PublicKeyPath + ".tmp";
        File.WriteAllText(temporary, pem.ToString());
        File.Move(temporary, PublicKeyPath, overwrite: true);
    }

    private static byte[] Aad(string keyId) => Encoding.ASCII.GetBytes("ecomdr/wrap/v1|" + keyId);

    private EcomDrException WrongKey(WrappedKey wrapped) =>
        new(ErrorIds.WrongKey, FailureKind.PermissionDenied,
            $"Key {KeyId} ({Path}) cannot unwrap a data key wrapped by {wrapped.Provider} key {wrapped.KeyId}.", wrapped.KeyId);
}
