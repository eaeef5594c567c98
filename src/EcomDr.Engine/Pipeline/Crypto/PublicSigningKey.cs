using System.Security.Cryptography;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>Manifest signing keys: ECDSA P-256, identified by "sk-" and a hash of the public key.</summary>
public static class PublicSigningKey
{
    public static string IdOf(ECDsa key) =>
        "sk-" + Convert.ToHexString(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16].ToLowerInvariant();

    /// <summary>Every PEM public key in <paramref name="pem"/>, in order; at least one.</summary>
    public static IReadOnlyList<(string KeyId, ECDsa Key)> ReadAll(string pem, string source)
    {
        var keys = new List<(string, ECDsa)>();
        var rest = pem.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            keys.Add(Read(rest[fields.Location].ToString(), source));
            rest = rest[fields.Location.End..];
        }

        return keys.Count > 0 ? keys : [Read(pem, source)];
    }

    /// <summary>Reads a PEM public key ("BEGIN PUBLIC KEY"); its id is computed, not trusted from the file.</summary>
    public static (string KeyId, ECDsa Key) Read(string pem, string source)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new EcomDrException(ErrorIds.KeyInvalid, FailureKind.InvalidData, $"{source} holds no ECDSA public key in PEM form.", source);
        }

        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new EcomDrException(ErrorIds.KeyInvalid, FailureKind.InvalidData, $"{source} is not a P-256 key.", source);
        }

        return (IdOf(key), key);
    }
}
