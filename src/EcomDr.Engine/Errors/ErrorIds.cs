namespace EcomDr.Engine.Errors;

/// <summary>Every error id the engine raises, in one place so they stay stable and documented.</summary>
public static class ErrorIds
{
    public const string ConfigNotFound = "EcomDr.ConfigNotFound";
    public const string ConfigInvalid = "EcomDr.ConfigInvalid";
    public const string EnvironmentNotFound = "EcomDr.EnvironmentNotFound";
    public const string SecretNotFound = "EcomDr.SecretNotFound";
    public const string SecretSourceUnavailable = "EcomDr.SecretSourceUnavailable";
    public const string ConnectionFailed = "EcomDr.ConnectionFailed";
    public const string AuthenticationFailed = "EcomDr.AuthenticationFailed";
    public const string InvalidArgument = "EcomDr.InvalidArgument";
    public const string KeyNotFound = "EcomDr.KeyNotFound";
    public const string KeyInvalid = "EcomDr.KeyInvalid";
    public const string KeyExists = "EcomDr.KeyExists";
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
    public const string RepositoryLocked = "EcomDr.RepositoryLocked";
    public const string StoreUnavailable = "EcomDr.StoreUnavailable";
    public const string RestoreFailed = "EcomDr.RestoreFailed";
    public const string StoreNotConfigured = "EcomDr.StoreNotConfigured";
    public const string SchemaNotFound = "EcomDr.SchemaNotFound";
    public const string MigrationsInvalid = "EcomDr.MigrationsInvalid";
    public const string RestoreIncomplete = "EcomDr.RestoreIncomplete";
    public const string SwapFailed = "EcomDr.SwapFailed";
    public const string SandboxFailed = "EcomDr.SandboxFailed";
}
