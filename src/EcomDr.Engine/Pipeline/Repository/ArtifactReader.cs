using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Compression;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Storage;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// Streams an artifact back: store -> stored SHA-256 check -> frame authentication and decryption ->
/// zstd -> plaintext SHA-256 check. Hashes are compared when the stream reaches its end; a reader
/// that must not act on unverified data reads to the end before committing anything.
/// </summary>
public static class ArtifactReader
{
    public static async Task<Stream> OpenAsync(IObjectStore store, string key, ArtifactEntry artifact,
        IReadOnlyList<IKeyProvider> unwrappers, CancellationToken cancellationToken)
    {
        var dataKey = await UnwrapAsync(artifact, unwrappers, cancellationToken).ConfigureAwait(false);
        try
        {
            var raw = await OpenStoredAsync(store, key, artifact, cancellationToken).ConfigureAwait(false);
            var decrypt = new DecryptingStream(raw, dataKey, artifact.Name);
            var decompress = Zstd.Decompress(decrypt);
            return new VerifyingReadStream(decompress, artifact.PlainSize, artifact.PlainSha256,
                what => Mismatch(artifact, $"plaintext {what}"));
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    /// <summary>The stored bytes as they are, checked against the manifest's stored size and SHA-256.</summary>
    public static async Task<Stream> OpenStoredAsync(IObjectStore store, string key, ArtifactEntry artifact, CancellationToken cancellationToken)
    {
        var raw = await store.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
        return new VerifyingReadStream(raw, artifact.StoredSize, artifact.StoredSha256, what => Mismatch(artifact, $"stored {what}"));
    }

    public static async Task<byte[]> UnwrapAsync(ArtifactEntry artifact, IReadOnlyList<IKeyProvider> unwrappers, CancellationToken cancellationToken)
    {
        foreach (var provider in unwrappers.Where(p => p.CanUnwrap))
        {
            foreach (var wrapped in artifact.Encryption.Keys.Where(provider.Opens))
            {
                return await provider.UnwrapAsync(wrapped, cancellationToken).ConfigureAwait(false);
            }
        }

        var needed = string.Join(", ", artifact.Encryption.Keys.Select(k => $"{k.Provider} {k.KeyId}"));
        var have = string.Join(", ", unwrappers.Where(p => p.CanUnwrap).Select(p => $"{p.Provider} {p.KeyId}"));
        throw new EcomDrException(ErrorIds.WrongKey, FailureKind.PermissionDenied,
            $"Artifact '{artifact.Name}' can be opened by {needed}; the keys at hand are {(have.Length == 0 ? "none" : have)}.", artifact.Name);
    }

    private static EcomDrException Mismatch(ArtifactEntry artifact, string what) =>
        new(ErrorIds.ArtifactHashMismatch, FailureKind.InvalidData, $"Artifact '{artifact.Name}': {what}.", artifact.Name);
}
