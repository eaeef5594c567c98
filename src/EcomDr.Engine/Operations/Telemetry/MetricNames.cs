namespace EcomDr.Engine.Operations.Telemetry;

/// <summary>
/// The metric names EcomDr emits: stable, documented in docs/observability.md, used by the alert
/// rules and the dashboard (a test checks both only use these). All are gauges.
/// </summary>
public static class MetricNames
{
    public const string LastAttempt = "ecomdr_job_last_attempt_timestamp_seconds";
    public const string LastSuccess = "ecomdr_job_last_success_timestamp_seconds";
    public const string Success = "ecomdr_job_success";
    public const string Duration = "ecomdr_job_duration_seconds";
    public const string BytesStored = "ecomdr_job_bytes_stored";
    public const string Artifacts = "ecomdr_job_artifacts";
    public const string ShippedEvent = "ecomdr_binlog_last_shipped_event_timestamp_seconds";
    public const string RpoExposure = "ecomdr_rpo_exposure_seconds";
    public const string IntegrityFailures = "ecomdr_integrity_failed_artifacts";
    public const string DrillPassed = "ecomdr_drill_passed";
    public const string DrillRto = "ecomdr_drill_rto_seconds";
    public const string DrillRpo = "ecomdr_drill_rpo_seconds";
    public const string DrillRtoObjective = "ecomdr_drill_rto_objective_seconds";
    public const string DrillRpoObjective = "ecomdr_drill_rpo_objective_seconds";
    public const string WindowOldest = "ecomdr_recovery_window_oldest_seconds";
    public const string WindowNewest = "ecomdr_recovery_window_newest_seconds";
    public const string WindowObjective = "ecomdr_recovery_window_objective_seconds";
    public const string StoreBytes = "ecomdr_store_bytes";
    public const string RetentionBytesFreed = "ecomdr_retention_bytes_freed";
    public const string RetentionExpired = "ecomdr_retention_backups_expired";
    public const string KeyRewrapped = "ecomdr_key_rewrapped_backups";
    public const string KeyPending = "ecomdr_key_pending_backups";
    public const string KeyCreated = "ecomdr_key_created_timestamp_seconds";
    public const string KeyRotateObjective = "ecomdr_key_rotate_objective_seconds";
    public const string RtoPredicted = "ecomdr_rto_predicted_seconds";
    public const string RtoObjective = "ecomdr_rto_objective_seconds";
    public const string SnapshotFreeze = "ecomdr_snapshot_freeze_seconds";
    public const string LokiPending = "ecomdr_joblog_loki_pending_lines";
    public const string FileBackupInterval = "ecomdr_file_backup_interval_seconds";
    public const string SnapshotDeleteFailures = "ecomdr_retention_snapshot_delete_failures";

    /// <summary>Every name with its help text.</summary>
    public static IReadOnlyDictionary<string, string> Help { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [LastAttempt] = "When the job last ran (Unix seconds).",
        [LastSuccess] = "When the job last succeeded (Unix seconds).",
        [Success] = "1 if the job's last run succeeded, 0 if it failed.",
        [Duration] = "How long the job's last run took.",
        [BytesStored] = "Bytes the job's last run stored in the repository.",
        [Artifacts] = "Artifacts the job's last run stored.",
        [ShippedEvent] = "Time of the newest binlog event shipped (Unix seconds); time() minus this is the RPO exposure.",
        [RpoExposure] = "What a disaster at the end of the last shipping run would have lost, in seconds.",
        [IntegrityFailures] = "Artifacts that failed the last integrity test of the kind.",
        [DrillPassed] = "1 if the last drill of the kind passed, 0 if it failed.",
        [DrillRto] = "RTO the last drill of the kind measured.",
        [DrillRpo] = "RPO the last drill of the kind measured.",
        [DrillRtoObjective] = "The RTO objective the drill was judged against.",
        [DrillRpoObjective] = "The RPO objective the drill was judged against.",
        [WindowOldest] = "The oldest point the store can restore (Unix seconds): the completion of the oldest full backup on the binlog chain.",
        [WindowNewest] = "The newest point the store can restore (Unix seconds): the newest shipped binlog event.",
        [WindowObjective] = "The window the retention policy promises (mysql-binlog keepDays), in seconds.",
        [StoreBytes] = "Bytes the store holds for the kind (complete backups).",
        [RetentionBytesFreed] = "Bytes the last retention run freed in the store.",
        [RetentionExpired] = "Backups the last retention run removed from the store.",
        [KeyRewrapped] = "Backups the last key rotation run re-wrapped in the store.",
        [KeyPending] = "Backups the last key rotation run left under an older key version (or could not read) in the store.",
        [KeyCreated] = "When the current version of the environment's local key was created (Unix seconds); written by every job that writes backups.",
        [KeyRotateObjective] = "How old the local key may grow before it is rotated (keys[].rotateDays), in seconds.",
        [RtoPredicted] = "What a recovery to the newest point would take now, by the RTO model (Get-DrRtoEstimate), in seconds.",
        [RtoObjective] = "The RTO objective the prediction is judged against, in seconds.",
        [SnapshotDeleteFailures] = "Expired volume snapshots the last retention run kept because their provider delete failed (retried by the next run).",
        [FileBackupInterval] = "How often the file set's backup runs by the configuration (files.<set>.intervalHours), in seconds.",
        [LokiPending] = "Job log lines not yet in Loki after the job's push (0 when Loki has them all; a failed push is retried by the next job).",
        [SnapshotFreeze] = "How long the last volume snapshot blocked commits, in seconds (its age is time() minus the job's last success).",
    };
}
