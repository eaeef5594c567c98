namespace EcomDr.Engine.Errors;

/// <summary>
/// Every error id EcomDr raises, in one place so they stay stable; docs/errors.md gives each one's
/// meaning and a test keeps the two in step.
/// </summary>
public static class ErrorIds
{
    // Configuration, arguments and secrets.
    public const string ConfigNotFound = "EcomDr.ConfigNotFound";
    public const string ConfigInvalid = "EcomDr.ConfigInvalid";
    public const string EnvironmentNotFound = "EcomDr.EnvironmentNotFound";
    public const string SourceNotConfigured = "EcomDr.SourceNotConfigured";
    public const string InvalidArgument = "EcomDr.InvalidArgument";
    public const string SnapshotProviderFailed = "EcomDr.SnapshotProviderFailed";
    public const string SnapshotFreezeTimeout = "EcomDr.SnapshotFreezeTimeout";
    public const string SnapshotStateMismatch = "EcomDr.SnapshotStateMismatch";
    public const string SecretFound = "EcomDr.SecretFound";
    public const string RestoreApprovalRequired = "EcomDr.RestoreApprovalRequired";
    public const string RestoreApprovalInvalid = "EcomDr.RestoreApprovalInvalid";
    public const string RestorePlanTampered = "EcomDr.RestorePlanTampered";
    public const string RestorePlanExpired = "EcomDr.RestorePlanExpired";
    public const string RestorePlanSelfApproved = "EcomDr.RestorePlanSelfApproved";
    public const string RestorePlanChanged = "EcomDr.RestorePlanChanged";
    public const string GrafanaRequestFailed = "EcomDr.GrafanaRequestFailed";
    public const string PathNotFound = "EcomDr.PathNotFound";
    public const string DestinationExists = "EcomDr.DestinationExists";
    public const string JobLogNotConfigured = "EcomDr.JobLogNotConfigured";
    public const string SecretNotFound = "EcomDr.SecretNotFound";
    public const string SecretSourceUnavailable = "EcomDr.SecretSourceUnavailable";

    // Servers.
    public const string ConnectionFailed = "EcomDr.ConnectionFailed";
    public const string AuthenticationFailed = "EcomDr.AuthenticationFailed";
    public const string PermissionDenied = "EcomDr.PermissionDenied";
    public const string ServerError = "EcomDr.ServerError";
    public const string BinlogDisabled = "EcomDr.BinlogDisabled";
    public const string SchemaNotFound = "EcomDr.SchemaNotFound";
    public const string TableNotFound = "EcomDr.TableNotFound";
    public const string SchemaChangedDuringBackup = "EcomDr.SchemaChangedDuringBackup";

    // Keys and the repository.
    public const string KeyNotFound = "EcomDr.KeyNotFound";
    public const string KeyInvalid = "EcomDr.KeyInvalid";
    public const string KeyExists = "EcomDr.KeyExists";
    public const string KeyInUse = "EcomDr.KeyInUse";

    // Redis.
    public const string RdbCorrupt = "EcomDr.RdbCorrupt";
    public const string RdbUnsupported = "EcomDr.RdbUnsupported";
    public const string WrongKey = "EcomDr.WrongKey";
    public const string ArtifactCorrupt = "EcomDr.ArtifactCorrupt";
    public const string ArtifactHashMismatch = "EcomDr.ArtifactHashMismatch";
    public const string ArtifactMissing = "EcomDr.ArtifactMissing";
    public const string ManifestInvalid = "EcomDr.ManifestInvalid";
    public const string ManifestSignatureInvalid = "EcomDr.ManifestSignatureInvalid";
    public const string ManifestUnsigned = "EcomDr.ManifestUnsigned";
    public const string UntrustedSigner = "EcomDr.UntrustedSigner";
    public const string BackupNotFound = "EcomDr.BackupNotFound";
    public const string BackupIncomplete = "EcomDr.BackupIncomplete";
    public const string BackupStillNeeded = "EcomDr.BackupStillNeeded";
    public const string RepositoryLocked = "EcomDr.RepositoryLocked";
    public const string StoreUnavailable = "EcomDr.StoreUnavailable";
    public const string StoreNotConfigured = "EcomDr.StoreNotConfigured";

    // Binlog shipping.
    public const string BinlogGap = "EcomDr.BinlogGap";
    public const string BinlogSourceChanged = "EcomDr.BinlogSourceChanged";

    // Restore, point-in-time recovery, validation, swap.
    public const string TargetNotEmpty = "EcomDr.TargetNotEmpty";
    public const string RestoreFailed = "EcomDr.RestoreFailed";
    public const string RestoreSessionFailed = "EcomDr.RestoreSessionFailed";
    public const string RestoreIncomplete = "EcomDr.RestoreIncomplete";
    public const string InvalidStopPoint = "EcomDr.InvalidStopPoint";
    public const string TargetNotReachable = "EcomDr.TargetNotReachable";
    public const string ReplayFailed = "EcomDr.ReplayFailed";
    public const string ReplayWritesOutsideTarget = "EcomDr.ReplayWritesOutsideTarget";
    public const string ReplayUnsupportedStatement = "EcomDr.ReplayUnsupportedStatement";
    public const string ReplayUnsupportedEvent = "EcomDr.ReplayUnsupportedEvent";
    public const string ReplayNeedsBinlogAdmin = "EcomDr.ReplayNeedsBinlogAdmin";
    public const string MigrationsInvalid = "EcomDr.MigrationsInvalid";
    public const string SwapFailed = "EcomDr.SwapFailed";
    public const string SandboxFailed = "EcomDr.SandboxFailed";

    // Any other failure, translated at the engine's edge (EngineErrors).
    public const string IoFailed = "EcomDr.IoFailed";
    public const string DataInvalid = "EcomDr.DataInvalid";
    public const string Timeout = "EcomDr.Timeout";
    public const string Unexpected = "EcomDr.UnexpectedError";
}
