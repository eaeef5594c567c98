namespace EcomDr.Engine.Errors;

/// <summary>
/// An engine failure with a stable error id (what scripts and tests match on) and a kind. Messages
/// must never contain a secret: they are shown, logged and serialized.
/// </summary>
public sealed class EcomDrException : Exception
{
    public EcomDrException(string errorId, FailureKind kind, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }

    /// <summary>Stable identifier, e.g. <c>EcomDr.ConfigInvalid</c>.</summary>
    public string ErrorId { get; }

    public FailureKind Kind { get; }

    /// <summary>The object the error is about (a file, a server, a backup id).</summary>
    public object? Target { get; }
}
