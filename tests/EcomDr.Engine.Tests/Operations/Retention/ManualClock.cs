namespace EcomDr.Engine.Tests.Operations.Retention;

/// <summary>The engine's clock seam, set by the test: backups stamped and retention run on simulated days.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}
