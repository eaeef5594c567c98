using EcomDr.Engine.Secrets;

namespace EcomDr.Engine.MySql;

/// <summary>How to reach a MySQL/MariaDB server. The password stays a <see cref="Secret"/>.</summary>
public sealed record MySqlEndpoint(
    string Server,
    int Port,
    string User,
    Secret Password,
    string SslMode = "Preferred",
    int ConnectTimeoutSeconds = 15)
{
    /// <summary>"host:port", for messages and result objects; never carries the user or password.</summary>
    public string Display => $"{Server}:{Port}";

    public override string ToString() => $"{User}@{Display}";
}
