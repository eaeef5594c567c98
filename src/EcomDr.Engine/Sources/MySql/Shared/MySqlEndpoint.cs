using EcomDr.Engine.Credentials;

namespace EcomDr.Engine.Sources.MySql.Shared;

/// <summary>How to reach a MySQL/MariaDB server. The password stays a <see cref="Secret"/>.</summary>
public sealed record MySqlEndpoint(
    string Server,
    int Port,
    string User,
    Secret Password,
    string SslMode = Config.ConfigDefaults.MySqlSslMode,
    int ConnectTimeoutSeconds = 15)
{
    /// <summary>"host:port", for messages and result objects; never carries the user or password.</summary>
    public string Display => $"{Server}:{Port}";

    public override string ToString() => $"{User}@{Display}";
}
