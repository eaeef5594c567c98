using System.Security.Cryptography;
using System.Text;

namespace EcomDr.Engine.Sources.MySql.Wire;

/// <summary>
/// The password proofs of the authentication plugins EcomDr speaks. None of them puts the password
/// itself on the wire except caching_sha2_password's full authentication, and then only over TLS or
/// RSA-encrypted to the server's key.
/// </summary>
internal static class WireAuth
{
    public const string NativePassword = "mysql_native_password";
    public const string CachingSha2 = "caching_sha2_password";
    public const string Sha256Password = "sha256_password";
    public const string ClearPassword = "mysql_clear_password";

    public static bool IsSupported(string plugin) => plugin is NativePassword or CachingSha2 or Sha256Password or ClearPassword;

    /// <summary>The first answer to a plugin's challenge (20-byte nonce, without its trailing NUL).</summary>
    public static byte[] Answer(string plugin, ReadOnlySpan<byte> password, ReadOnlySpan<byte> nonce, bool secure)
    {
        return plugin switch
        {
            NativePassword => Native(password, nonce),
            CachingSha2 => Sha2Scramble(password, nonce),
            // sha256_password and clear text send the password only over TLS; without it, ask for the RSA key.
            Sha256Password => password.Length == 0 ? new byte[] { 0 } : secure ? WithNul(password) : new byte[] { 1 },
            ClearPassword => secure ? WithNul(password) : throw new InvalidOperationException("mysql_clear_password needs TLS."),
            _ => throw new NotSupportedException(plugin),
        };
    }

    /// <summary>SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))).</summary>
    public static byte[] Native(ReadOnlySpan<byte> password, ReadOnlySpan<byte> nonce)
    {
        if (password.Length == 0)
        {
            return Array.Empty<byte>();
        }

        Span<byte> stage1 = stackalloc byte[20];
        Span<byte> stage2 = stackalloc byte[20];
        SHA1.HashData(password, stage1);
        SHA1.HashData(stage1, stage2);
        var mix = new byte[nonce.Length + 20];
        nonce.CopyTo(mix);
        stage2.CopyTo(mix.AsSpan(nonce.Length));
        var result = SHA1.HashData(mix);
        for (var i = 0; i < result.Length; i++)
        {
            result[i] ^= stage1[i];
        }

        return result;
    }

    /// <summary>XOR(SHA256(password), SHA256(SHA256(SHA256(password)), nonce)).</summary>
    public static byte[] Sha2Scramble(ReadOnlySpan<byte> password, ReadOnlySpan<byte> nonce)
    {
        if (password.Length == 0)
        {
            return Array.Empty<byte>();
        }

        Span<byte> stage1 = stackalloc byte[32];
        Span<byte> stage2 = stackalloc byte[32];
        SHA256.HashData(password, stage1);
        SHA256.HashData(stage1, stage2);
        var mix = new byte[32 + nonce.Length];
        stage2.CopyTo(mix);
        nonce.CopyTo(mix.AsSpan(32));
        var result = SHA256.HashData(mix);
        for (var i = 0; i < result.Length; i++)
        {
            result[i] ^= stage1[i];
        }

        return result;
    }

    /// <summary>(password + NUL) XOR the nonce (repeated), RSA-OAEP encrypted to the server's PEM public key.</summary>
    public static byte[] RsaEncrypt(ReadOnlySpan<byte> password, ReadOnlySpan<byte> nonce, string publicKeyPem)
    {
        var plain = WithNul(password);
        try
        {
            for (var i = 0; i < plain.Length; i++)
            {
                plain[i] ^= nonce[i % nonce.Length];
            }

            using var rsa = RSA.Create();
            rsa.ImportFromPem(publicKeyPem);
            return rsa.Encrypt(plain, RSAEncryptionPadding.OaepSHA1);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    public static byte[] WithNul(ReadOnlySpan<byte> password)
    {
        var bytes = new byte[password.Length + 1];
        password.CopyTo(bytes);
        return bytes;
    }

    public static string Pem(ReadOnlySpan<byte> data) => Encoding.ASCII.GetString(data);
}
