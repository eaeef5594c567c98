using System.Text;

namespace EcomDr.Engine.Sources.MySql.Wire;

/// <summary>Capability flags EcomDr uses (protocol docs, "Capabilities Flags").</summary>
internal static class Capabilities
{
    public const uint LongPassword = 0x1;
    public const uint LongFlag = 0x4;
    public const uint LocalFiles = 0x80;
    public const uint Protocol41 = 0x200;
    public const uint Ssl = 0x800;
    public const uint Transactions = 0x2000;
    public const uint SecureConnection = 0x8000;
    public const uint MultiStatements = 0x10000;
    public const uint MultiResults = 0x20000;
    public const uint PluginAuth = 0x80000;
    public const uint PluginAuthLengthEncoded = 0x200000;

    /// <summary>What the client asks for (intersected with what the server offers). Classic EOF packets.</summary>
    public const uint Client = LongPassword | LongFlag | Protocol41 | Transactions | SecureConnection | MultiResults | PluginAuth | PluginAuthLengthEncoded;
}

/// <summary>The server's initial handshake packet (protocol version 10).</summary>
internal sealed record ServerHello(string Version, uint ConnectionId, uint Capabilities, byte[] Nonce, string AuthPlugin)
{
    public static ServerHello Parse(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var protocol = r.Byte();
        if (protocol != 10)
        {
            throw new InvalidDataException($"Unsupported protocol version {protocol}: not a MySQL 5.x+/MariaDB server.");
        }

        var version = r.NulTerminatedString();
        var id = r.UInt32();
        var nonce1 = r.Bytes(8).ToArray();
        r.Byte();
        uint caps = r.UInt16();
        if (r.AtEnd)
        {
            return new ServerHello(version, id, caps, nonce1, WireAuth.NativePassword);
        }

        r.Byte(); // character set
        r.UInt16(); // status
        caps |= (uint)r.UInt16() << 16;
        var nonceLength = r.Byte();
        r.Bytes(10); // reserved (MariaDB: its extended capabilities in the last 4)
        var nonce = nonce1;
        if ((caps & Wire.Capabilities.SecureConnection) != 0)
        {
            var part2 = r.Bytes(Math.Max(13, nonceLength - 8));
            nonce = nonce1.Concat(part2[..^1].ToArray()).ToArray(); // the last byte is a NUL
        }

        var plugin = (caps & Wire.Capabilities.PluginAuth) != 0 && !r.AtEnd ? r.NulTerminatedString() : WireAuth.NativePassword;
        return new ServerHello(version, id, caps, nonce, plugin);
    }
}
