using System.Management.Automation;
using EcomDr.Engine.Errors;

namespace EcomDr.Common;

/// <summary>Turns engine errors into ErrorRecords with their stable ErrorId and category.</summary>
internal static class ErrorRecords
{
    public static ErrorRecord From(EcomDrException ex) => new(ex, ex.ErrorId, Category(ex.Kind), ex.Target);

    private static ErrorCategory Category(FailureKind kind) => kind switch
    {
        FailureKind.InvalidArgument => ErrorCategory.InvalidArgument,
        FailureKind.InvalidData => ErrorCategory.InvalidData,
        FailureKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        FailureKind.ResourceExists => ErrorCategory.ResourceExists,
        FailureKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        FailureKind.ResourceBusy => ErrorCategory.ResourceBusy,
        FailureKind.ConnectionError => ErrorCategory.ConnectionError,
        FailureKind.AuthenticationError => ErrorCategory.AuthenticationError,
        FailureKind.PermissionDenied => ErrorCategory.PermissionDenied,
        FailureKind.InvalidOperation => ErrorCategory.InvalidOperation,
        FailureKind.OperationStopped => ErrorCategory.OperationStopped,
        FailureKind.NotImplemented => ErrorCategory.NotImplemented,
        FailureKind.OperationTimeout => ErrorCategory.OperationTimeout,
        FailureKind.SecurityError => ErrorCategory.SecurityError,
        _ => ErrorCategory.NotSpecified,
    };
}
