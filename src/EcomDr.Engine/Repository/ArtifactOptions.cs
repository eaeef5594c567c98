using EcomDr.Engine.Crypto;

namespace EcomDr.Engine.Repository;

/// <summary>How artifacts are written: zstd level and encryption frame size.</summary>
public sealed record ArtifactOptions(int CompressionLevel = 3, int FrameSize = FrameFormat.DefaultFrameSize);
