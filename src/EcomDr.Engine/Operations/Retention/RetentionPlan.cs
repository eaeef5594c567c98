using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Operations.Retention;

/// <summary>What retention decided for one backup in one store, and why.</summary>
public sealed record RetentionDecision(BackupInfo Backup, bool Keep, IReadOnlyList<string> Reasons, DateTimeOffset? ExpiresAt)
{
    public string Id => Backup.Id;

    public string Kind => Backup.Kind;

    public string Store => Backup.Store;

    public DateTimeOffset Created => Backup.Created;

    public long Size => Backup.Size;

    public string Decision => Keep ? "Keep" : "Expire";

    public string Reason => string.Join("; ", Reasons);

    public override string ToString() => $"{Decision} {Kind}/{Id}: {Reason}";
}

/// <summary>The whole plan for one store: every backup's decision, computed before anything is deleted.</summary>
public sealed record RetentionPlan(string Environment, string Store, DateTimeOffset Now, IReadOnlyList<RetentionDecision> Decisions)
{
    public IEnumerable<RetentionDecision> Expired => Decisions.Where(d => !d.Keep);

    public IEnumerable<RetentionDecision> Kept => Decisions.Where(d => d.Keep);

    public long BytesToFree => Expired.Sum(d => d.Size);
}

/// <summary>What a retention run did in one store (the summary after the decisions).</summary>
public sealed record RetentionSummary(string Environment, string Store, DateTimeOffset Now, int Kept, int Expired, int Removed, long BytesFreed, bool WhatIf);
