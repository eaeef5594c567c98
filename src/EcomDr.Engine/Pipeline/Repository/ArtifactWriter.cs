using System.Security.Cryptography;
using EcomDr.Engine.Pipeline.Compression;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Storage;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// The artifact pipeline, streaming end to end: plaintext -> SHA-256 -> zstd -> framed AES-256-GCM
/// under a fresh data key -> SHA-256 -> store upload, the encryption and below on a task of their own.
/// Memory is bounded by the zstd window, a few encryption frames and the store's upload buffers,
/// whatever the artifact's size.
/// </summary>
public static class ArtifactWriter
{
    /// <summary>Writes one artifact; <paramref name="produce"/> writes its plaintext to the stream it is given.</summary>
    public static async Task<ArtifactEntry> WriteAsync(IObjectStore store, string key, string name,
        Func<Stream, CancellationToken, Task> produce, IReadOnlyList<IKeyProvider> keyProviders, ArtifactOptions options,
        CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? tags = null)
    {
        var (dataKey, wrapped) = await DataKeys.NewAsync(keyProviders, cancellationToken).ConfigureAwait(false);
        try
        {
            await using var upload = await store.BeginUploadAsync(key, tags, cancellationToken).ConfigureAwait(false);
            var stored = new HashingWriteStream(upload.Stream);
            var encrypt = new PipelinedEncryptingStream(stored, dataKey, options.FrameSize);
            var compress = Zstd.Compress(encrypt, options.CompressionLevel, options.Workers);
            var plain = new HashingWriteStream(compress);
            try
            {
                await produce(plain, cancellationToken).ConfigureAwait(false);
                await compress.DisposeAsync().ConfigureAwait(false); // writes the zstd epilogue
                await encrypt.CompleteAsync(cancellationToken).ConfigureAwait(false);
                await upload.CommitAsync(cancellationToken).ConfigureAwait(false);
                return new ArtifactEntry
                {
                    Name = name,
                    Path = key,
                    StoredSize = stored.BytesWritten,
                    StoredSha256 = stored.HashHex(),
                    PlainSize = plain.BytesWritten,
                    PlainSha256 = plain.HashHex(),
                    Compression = new CompressionInfo { Algorithm = "zstd", Level = options.CompressionLevel },
                    Encryption = new EncryptionInfo { FrameSize = options.FrameSize, Keys = wrapped },
                };
            }
            catch
            {
                // The upload is never committed; tearing the streams down must not hide why (a cut
                // connection, a damaged source) behind an error of its own.
                await QuietlyAsync(plain).ConfigureAwait(false);
                await QuietlyAsync(compress).ConfigureAwait(false);
                await QuietlyAsync(encrypt).ConfigureAwait(false);
                throw;
            }
            finally
            {
                await QuietlyAsync(plain).ConfigureAwait(false);
                await QuietlyAsync(encrypt).ConfigureAwait(false);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    private static async Task QuietlyAsync(Stream stream)
    {
        try
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or Errors.EcomDrException)
        {
        }
    }

    public static Task<ArtifactEntry> WriteAsync(IObjectStore store, string key, string name, Stream source,
        IReadOnlyList<IKeyProvider> keyProviders, ArtifactOptions options, CancellationToken cancellationToken) =>
        WriteAsync(store, key, name, (destination, ct) => source.CopyToAsync(destination, 1 << 17, ct), keyProviders, options, cancellationToken);
}
