using System.Text;

namespace EcomDr.Engine.Sources.MySql.Wire;

/// <summary>An ERR packet from the server: its error number, SQLSTATE and message.</summary>
public sealed class WireServerException(int code, string sqlState, string message) : Exception(message)
{
    public const int AccessDenied = 1045;
    public const int DatabaseAccessDenied = 1044;
    public const int LockWaitTimeout = 1205;
    public const int LockDeadlock = 1213;

    public int Code { get; } = code;

    public string SqlState { get; } = sqlState;

    internal static WireServerException Parse(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        r.Byte(); // 0xFF
        var code = r.UInt16();
        var state = "HY000";
        if (!r.AtEnd && r.Peek() == (byte)'#')
        {
            r.Byte();
            state = Encoding.ASCII.GetString(r.Bytes(5));
        }

        return new WireServerException(code, state, Encoding.UTF8.GetString(r.Rest()));
    }
}
