using System.Security.Cryptography;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>
/// Break-glass provider: every data key is also wrapped with RSA-OAEP (SHA-256) to an offline RSA
/// public key. The private key stays offline; with it, any artifact can be recovered without the
/// normal key provider (Expand-DrArtifact -BreakGlassKey).
/// </summary>
public sealed class RsaBreakGlassKey : IKeyProvider, IDisposable
{
    public const string ProviderName = "rsaOaepSha256";
    public const int MinimumBits = 4096;
    private readonly RSA _rsa;

    private RsaBreakGlassKey(RSA rsa, bool hasPrivate, string path)
    {
        _rsa = rsa;
        CanUnwrap = hasPrivate;
        Path = path;
        KeyId = IdOf(rsa);
    }

    public string Path { get; }

    public string Provider => ProviderName;

    public string KeyId { get; }

    public bool CanUnwrap { get; }

    /// <summary>Loads a PEM public key (wrap only) or private key (wrap and unwrap).</summary>
    public static RsaBreakGlassKey Load(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new EcomDrException(ErrorIds.KeyNotFound, FailureKind.ObjectNotFound, $"Break-glass key not found: {full}", full);
        }

        var pem = File.ReadAllText(full);
        var hasPrivate = pem.Contains("PRIVATE KEY-----", StringComparison.Ordinal);
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            throw new EcomDrException(ErrorIds.KeyInvalid, FailureKind.InvalidData, $"{full} holds no RSA key in PEM form.", full);
        }

        if (rsa.KeySize < MinimumBits)
        {
            rsa.Dispose();
            throw new EcomDrException(ErrorIds.KeyInvalid, FailureKind.InvalidData,
                $"Break-glass key {full} is RSA-{rsa.KeySize}; at least RSA-{MinimumBits} is required.", full);
        }

        return new RsaBreakGlassKey(rsa, hasPrivate, full);
    }

    /// <summary>Creates an RSA-4096 pair: the private key (owner-only) and its public key beside it.</summary>
    public static (string PrivatePath, string PublicPath, string KeyId) Create(string privatePath)
    {
        using var rsa = RSA.Create(MinimumBits);
        var full = System.IO.Path.GetFullPath(privatePath);
        KeyFilePermissions.WriteNew(full, System.Text.Encoding.ASCII.GetBytes(rsa.ExportPkcs8PrivateKeyPem() + "\n"));
        var publicPath = full + ".pub.pem";
        File.WriteAllText(publicPath, rsa.ExportSubjectPublicKeyInfoPem() + "\n");
        return (full, publicPath, IdOf(rsa));
    }

    private static string IdOf(RSA rsa) =>
        "rsa-" + Convert.ToHexString(SHA256.HashData(rsa.ExportSubjectPublicKeyInfo()))[..16].ToLowerInvariant();

    public Task<WrappedKey> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken) =>
        Task.FromResult(new WrappedKey(ProviderName, KeyId, Convert.ToBase64String(_rsa.Encrypt(dataKey.Span, RSAEncryptionPadding.OaepSHA256))));

    public Task<byte[]> UnwrapAsync(WrappedKey wrapped, CancellationToken cancellationToken)
    {
        if (!CanUnwrap)
        {
            throw new EcomDrException(ErrorIds.WrongKey, FailureKind.InvalidArgument,
                $"{Path} is the break-glass public key; unwrapping needs the private key.", Path);
        }

        if (wrapped.Provider != ProviderName || wrapped.KeyId != KeyId)
        {
            throw new EcomDrException(ErrorIds.WrongKey, FailureKind.PermissionDenied,
                $"Break-glass key {KeyId} did not wrap this data key (wrapped by {wrapped.Provider} key {wrapped.KeyId}).", wrapped.KeyId);
        }

        try
        {
            return Task.FromResult(_rsa.Decrypt(Convert.FromBase64String(wrapped.Wrapped), RSAEncryptionPadding.OaepSHA256));
        }
        catch (CryptographicException)
        {
            throw new EcomDrException(ErrorIds.WrongKey, FailureKind.PermissionDenied, $"Break-glass key {KeyId} cannot unwrap the data key.", wrapped.KeyId);
        }
    }

    public void Dispose() => _rsa.Dispose();
}
