using System.Security.Cryptography;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Crypto;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// Public keys whose manifest signatures are accepted, by key id. Built from the configuration's
/// local key files (their public half) and from public key files given explicitly (auditors).
/// Keys published inside a repository are never trusted just for being there.
/// </summary>
public sealed class TrustedKeys
{
    private readonly Dictionary<string, ECDsa> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _spki = new(StringComparer.Ordinal);
    private readonly List<string> _sources = new();
    private readonly ThreadLocal<Dictionary<string, (byte[] Spki, ECDsa Key)>> _copies = new(() => new(StringComparer.Ordinal));

    public void Add(string keyId, ECDsa publicKey, string source)
    {
        _keys[keyId] = publicKey;
        _spki[keyId] = publicKey.ExportSubjectPublicKeyInfo();
        _sources.Add(source);
    }

    /// <summary>
    /// Verifies a signature by a trusted key on the calling thread's own copy of it: the catalog
    /// verifies manifests concurrently, and one key object is not promised to be thread-safe. The copy
    /// is kept per thread: importing a key costs twice as much as a verification.
    /// </summary>
    public bool Verify(string keyId, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        var copies = _copies.Value!;
        var spki = _spki[keyId];
        // A key id added again with another key is imported again (the copy is checked against the exact bytes).
        if (!copies.TryGetValue(keyId, out var copy) || !ReferenceEquals(copy.Spki, spki))
        {
            var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(spki, out _);
            copies[keyId] = copy = (spki, key);
        }

        return copy.Key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    /// <summary>Trusts every signing key a key file vouches for: its versions' and its retired ones.</summary>
    public void Add(LocalKeyFile key)
    {
        foreach (var (keyId, spki) in key.SigningPublicKeys())
        {
            var publicKey = ECDsa.Create();
            publicKey.ImportSubjectPublicKeyInfo(spki, out _);
            Add(keyId, publicKey, key.Path);
        }
    }

    /// <summary>
    /// Adds the keys of a public signing key file (New-DrKey writes one beside each key file,
    /// &lt;key&gt;.pub.pem, with one PEM block per signing key the file has had).
    /// </summary>
    public void AddPublicKeyFile(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new EcomDrException(ErrorIds.KeyNotFound, FailureKind.ObjectNotFound, $"Public key file not found: {full}", full);
        }

        foreach (var (keyId, key) in PublicSigningKey.ReadAll(File.ReadAllText(full), full))
        {
            Add(keyId, key, full);
        }
    }

    public ECDsa? Find(string keyId) => _keys.GetValueOrDefault(keyId);

    public int Count => _keys.Count;

    public string Describe() => _sources.Count == 0 ? "none given" : string.Join(", ", _sources);
}
