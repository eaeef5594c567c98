using EcomDr.Engine.Pipeline.Crypto;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// How artifacts are written: zstd level, zstd worker threads (0: compress on the writing thread)
/// and encryption frame size.
/// </summary>
public sealed record ArtifactOptions(int CompressionLevel = 3, int FrameSize = FrameFormat.DefaultFrameSize, int? CompressionThreads = null)
{
    /// <summary>
    /// Worker threads for zstd: by default one per core (ZstdSharp's port of zstd's multithreaded
    /// mode; the output is ordinary zstd frames). Compression is the slow stage of the pipeline.
    /// </summary>
    public int Workers => CompressionThreads ?? Math.Min(Environment.ProcessorCount, 8);
}
