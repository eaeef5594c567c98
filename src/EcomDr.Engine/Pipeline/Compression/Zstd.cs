using EcomDr.Engine.Pipeline.IO;
using ZstdSharp;

namespace EcomDr.Engine.Pipeline.Compression;

/// <summary>
/// zstd streams for the artifact pipeline: libzstd when the system has it, else ZstdSharp (a managed
/// port, about half as fast). Both read and write ordinary zstd frames, so either reads what the other
/// wrote, and the stock zstd tool reads both. Corrupt input is an InvalidDataException from either.
/// Setting ECOMDR_ZSTD=managed forces the managed port.
/// </summary>
public static class Zstd
{
    public static string Implementation => NativeZstd.IsAvailable ? $"libzstd {NativeZstd.Version}" : "ZstdSharp (managed)";

    /// <summary>A stream whose writes are compressed into <paramref name="inner"/>; DisposeAsync ends the frame and leaves inner open.</summary>
    public static Stream Compress(Stream inner, int level, int workers, bool managed = false)
    {
        if (NativeZstd.IsAvailable && !managed)
        {
            return new NativeZstdWriteStream(inner, level, workers);
        }

        var stream = new CompressionStream(inner, level, leaveOpen: true);
        if (workers > 0)
        {
            stream.SetParameter(ZstdSharp.Unsafe.ZSTD_cParameter.ZSTD_c_nbWorkers, workers);
        }

        return stream;
    }

    /// <summary>The decompressed content of <paramref name="inner"/>, which it disposes.</summary>
    public static Stream Decompress(Stream inner, bool managed = false) =>
        NativeZstd.IsAvailable && !managed ? new NativeZstdReadStream(inner) : new ManagedReadStream(new DecompressionStream(inner, leaveOpen: false));

    /// <summary>ZstdSharp's reader with its errors reported as InvalidDataException, like libzstd's.</summary>
    private sealed class ManagedReadStream(DecompressionStream inner) : ReadOnlyStream
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (ZstdException ex)
            {
                throw new InvalidDataException("zstd: " + ex.Message, ex);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            GC.SuppressFinalize(this);
        }
    }
}
