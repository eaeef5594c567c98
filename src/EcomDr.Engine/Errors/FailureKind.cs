namespace EcomDr.Engine.Errors;

/// <summary>
/// What kind of failure an engine error is. The engine has no PowerShell types, so the module maps
/// each kind to an ErrorCategory; the names follow PowerShell's categories on purpose.
/// </summary>
public enum FailureKind
{
    InvalidArgument,
    InvalidData,
    ObjectNotFound,
    ResourceExists,
    ResourceUnavailable,
    ResourceBusy,
    ConnectionError,
    AuthenticationError,
    PermissionDenied,
    InvalidOperation,
    OperationStopped,
    NotImplemented,
    OperationTimeout,
    SecurityError,
}
