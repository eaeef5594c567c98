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
}
