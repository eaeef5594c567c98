using System.Net.Sockets;
using EcomDr.Engine.Sources.MySql.Wire;
using MySqlConnector;

namespace EcomDr.Engine.Errors;

/// <summary>
/// The engine's edge: any failure that reaches a caller as something other than an
/// <see cref="EcomDrException"/> (a driver's, the wire client's, the runtime's) is turned into one
/// with a stable EcomDr id and kind, its message kept (drivers name users and hosts, never passwords)
/// and the original as the inner exception. Cancellation passes through untouched.
/// </summary>
public static class EngineErrors
{

    // ER_DBACCESS_DENIED, ER_ACCESS_DENIED, ER_TABLEACCESS_DENIED, ER_COLUMNACCESS_DENIED, ER_SPECIFIC_ACCESS_DENIED,
    // ER_PROCACCESS_DENIED, ER_KILL_DENIED, ER_ACCESS_DENIED_NO_PASSWORD, ER_DB_CREATE_EXISTS is not one.
    private static readonly HashSet<int> AccessDenied = new() { 1044, 1045, 1142, 1143, 1227, 1370, 1095, 1698, 1211, 1410 };

    /// <summary>The EcomDr error for <paramref name="error"/>; null for a cancellation, which is not an error.</summary>
    public static EcomDrException? Translate(Exception error)
    {
        var e = error is AggregateException { InnerExceptions.Count: 1 } one ? one.InnerExceptions[0] : error;
        switch (e)
        {
            case EcomDrException ecomdr:
                return ecomdr;
            case OperationCanceledException:
                return null;
            case MySqlException sql:
                return Server(sql.Number, sql.Message, e);
            case WireServerException wire:
                return Server(wire.Code, wire.Message, e);
            case SocketException or EndOfStreamException:
                return new EcomDrException(ErrorIds.ConnectionFailed, FailureKind.ConnectionError, $"The connection failed: {e.Message}", null, e);
            case TimeoutException:
                return new EcomDrException(ErrorIds.Timeout, FailureKind.OperationStopped, $"Timed out: {e.Message}", null, e);
            case UnauthorizedAccessException:
                return new EcomDrException(ErrorIds.PermissionDenied, FailureKind.PermissionDenied, e.Message, null, e);
            case InvalidDataException:
                return new EcomDrException(ErrorIds.DataInvalid, FailureKind.InvalidData, e.Message, null, e);
            case IOException:
                return new EcomDrException(ErrorIds.IoFailed, FailureKind.ResourceUnavailable, e.Message, null, e);
            default:
                return new EcomDrException(ErrorIds.Unexpected, FailureKind.InvalidOperation, $"{e.GetType().Name}: {e.Message}", null, e);
        }
    }

    private static EcomDrException Server(int code, string message, Exception inner) =>
        AccessDenied.Contains(code)
            ? new EcomDrException(ErrorIds.PermissionDenied, FailureKind.PermissionDenied,
                $"The server refused it (error {code}): {message}. Test-DrPrerequisite -Role Restore (or Backup) lists the privileges each job needs.", null, inner)
            : new EcomDrException(ErrorIds.ServerError, FailureKind.InvalidOperation, $"The server answered error {code}: {message}", null, inner);
}
