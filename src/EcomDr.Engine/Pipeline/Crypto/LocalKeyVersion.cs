using System.Security.Cryptography;

namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>
/// One version of a local key file: a 256-bit wrapping key and the ECDSA P-256 key that signs with it.
/// Each version has its own ids, so a wrapped key or a signature names the version that made it.
/// </summary>
public sealed class LocalKeyVersion : IDisposable
{
    private static readonly byte[] IdContext = "ecomdr/key-id/v1"u8.ToArray();

    internal LocalKeyVersion(int version, DateTimeOffset created, byte[] key, ECDsa signing)
    {
        Version = version;
        Created = created;
        Key = key;
        Signing = signing;
        KeyId = IdOf(key);
        SigningKeyId = PublicSigningKey.IdOf(signing);
    }

    public int Version { get; }

    public DateTimeOffset Created { get; }

    public string KeyId { get; }

    public string SigningKeyId { get; }

    public ECDsa Signing { get; }

    internal byte[] Key { get; }

    public static string IdOf(ReadOnlySpan<byte> key) => "lk-" + Convert.ToHexString(SHA256.HashData([.. IdContext, .. key]))[..16].ToLowerInvariant();

    internal static LocalKeyVersion New(int version) =>
        new(version, DateTimeOffset.UtcNow, RandomNumberGenerator.GetBytes(32), ECDsa.Create(ECCurve.NamedCurves.nistP256));

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(Key);
        Signing.Dispose();
    }
}

/// <summary>The public half of a signing key whose version was removed: signatures it made still verify.</summary>
public sealed record RetiredSigningKey(int Version, string SigningKeyId, byte[] SubjectPublicKeyInfo, DateTimeOffset Retired);
