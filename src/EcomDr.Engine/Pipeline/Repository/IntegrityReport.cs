namespace EcomDr.Engine.Pipeline.Repository;

public enum IntegrityStatus
{
    Passed,
    Failed,
}

/// <summary>The result of checking one artifact.</summary>
public sealed record ArtifactCheck(string Name, IntegrityStatus Status, long Bytes, string? ErrorId, string? Problem)
{
    // Nested in a report, a check prints as a line, not as a C# record.
    public override string ToString() => Problem is null ? $"{Status} {Name}" : $"{Status} {Name}: {ErrorId}: {Problem}";
}

/// <summary>What Test-BackupIntegrity found for one backup in one store.</summary>
public sealed record IntegrityReport(
    string BackupId,
    string Kind,
    string Store,
    bool Deep,
    IntegrityStatus Status,
    string? ManifestErrorId,
    string? ManifestProblem,
    IReadOnlyList<ArtifactCheck> Artifacts,
    TimeSpan Elapsed)
{
    public int FailedCount => Artifacts.Count(a => a.Status == IntegrityStatus.Failed) + (ManifestErrorId is null ? 0 : 1);

    public long BytesChecked => Artifacts.Sum(a => a.Bytes);
}
