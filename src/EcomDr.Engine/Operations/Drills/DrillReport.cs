namespace EcomDr.Engine.Operations.Drills;

/// <summary>The two drills of the plan: a monthly point-in-time recovery, a quarterly total disaster (offsite only).</summary>
public enum DrillKind
{
    Pitr,
    TotalDisaster,
}

/// <summary>One timed phase of a drill.</summary>
public sealed record DrillPhase(string Name, double Seconds)
{
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Name} {Seconds:0.0} s");
}

/// <summary>One checklist line: pass or fail, with its evidence.</summary>
public sealed record DrillCheck(string Name, bool Passed, string Evidence)
{
    // Nested in a report, a check prints as a checklist line, not as a C# record.
    public override string ToString() => $"{(Passed ? "PASS" : "FAIL")} {Name}: {Evidence}";
}

/// <summary>
/// What a drill proved: the verdict, the measured RTO (drill start to a validated, probed restore)
/// and RPO (the reference point minus the last transaction actually restored) against the
/// objectives, each phase's time, and the checklist. FullRestoreBytes and ReplayBytes (the stored size
/// of the full backup and of the segments replayed) make its rates the RTO model's; PredictedRtoSeconds
/// is what that model, from the drill before, predicted for this one (reports written before the model
/// have none of the three).
/// </summary>
public sealed record DrillReport(
    string Id,
    DrillKind Kind,
    string Environment,
    string Store,
    string Target,
    DateTimeOffset Started,
    DateTimeOffset Finished,
    bool Passed,
    double RtoSeconds,
    double RtoObjectiveSeconds,
    double? RpoSeconds,
    double RpoObjectiveSeconds,
    DateTimeOffset ReferencePoint,
    string BackupId,
    int Segments,
    string RestoredTo,
    DateTimeOffset? LastRestoredCommit,
    IReadOnlyList<DrillPhase> Phases,
    IReadOnlyList<DrillCheck> Checks,
    string Host,
    string ToolVersion,
    long? FullRestoreBytes = null,
    long? ReplayBytes = null,
    double? PredictedRtoSeconds = null)
{
    public string Verdict => Passed ? "PASSED" : "FAILED";

    public IReadOnlyList<DrillCheck> Failures => Checks.Where(c => !c.Passed).ToList();
}
