using EcomDr.Engine.Config;
using EcomDr.Engine.Credentials;

namespace EcomDr.Engine.Sources.Redis;

/// <summary>A Redis to connect to: address, TLS, the ACL user and password (null: no AUTH), and the stall limit.</summary>
public sealed record RedisEndpoint(string Server, int Port, RedisTlsMode Tls, string? CaFile, string? User, Secret? Password, TimeSpan ReadTimeout)
{
    public string Display => $"{Server}:{Port}";
}
