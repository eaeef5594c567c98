using EcomDr.Engine.Errors;
using MySqlConnector;

namespace EcomDr.Engine.Sources.MySql.Shared;

/// <summary>Opens connections and turns driver failures into engine errors without secrets.</summary>
public static class MySqlConnections
{
    public static Task<MySqlConnection> OpenAsync(MySqlEndpoint endpoint, CancellationToken cancellationToken) =>
        OpenAsync(endpoint, null, cancellationToken);

    /// <summary>
    /// The settings of the bulk jobs (dump, load, swap, validation): values exactly as stored (zero
    /// dates, TINYINT(1) as a number) and no command timeout, since one statement can run for hours.
    /// </summary>
    public static void AsStored(MySqlConnectionStringBuilder b)
    {
        b.AllowZeroDateTime = true;
        b.ConvertZeroDateTime = false;
        b.DefaultCommandTimeout = 0;
        b.TreatTinyAsBoolean = false;
    }

    /// <summary>Opens a connection; <paramref name="tweak"/> adjusts the settings (bulk jobs: no command timeout, zero dates).</summary>
    public static async Task<MySqlConnection> OpenAsync(MySqlEndpoint endpoint, Action<MySqlConnectionStringBuilder>? tweak, CancellationToken cancellationToken)
    {
        var builder = new MySqlConnectionStringBuilder
        {
            Server = endpoint.Server,
            Port = (uint)endpoint.Port,
            UserID = endpoint.User,
            Password = endpoint.Password.Reveal(),
            SslMode = Enum.Parse<MySqlSslMode>(endpoint.SslMode, ignoreCase: true),
            ConnectionTimeout = (uint)endpoint.ConnectTimeoutSeconds,
            Pooling = false,
            AllowUserVariables = true,
            PersistSecurityInfo = false,
            // MySQL 8 caching_sha2_password over a non-TLS link needs the server's RSA key.
            AllowPublicKeyRetrieval = true,
        };

        tweak?.Invoke(builder);
        var connection = new MySqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (MySqlException ex)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw Translate(ex, endpoint);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new EcomDrException(ErrorIds.ConnectionFailed, FailureKind.ConnectionError,
                $"Cannot connect to {endpoint.Display}: {ex.Message}", endpoint.Display, ex);
        }
    }

    private static EcomDrException Translate(MySqlException ex, MySqlEndpoint endpoint)
    {
        // The driver's texts name the user and host, never the password.
        return ex.ErrorCode switch
        {
            MySqlErrorCode.AccessDenied or MySqlErrorCode.DatabaseAccessDenied =>
                new EcomDrException(ErrorIds.AuthenticationFailed, FailureKind.AuthenticationError,
                    $"Login to {endpoint.Display} as '{endpoint.User}' was refused: {ex.Message}", endpoint.Display, ex),
            _ => new EcomDrException(ErrorIds.ConnectionFailed, FailureKind.ConnectionError,
                $"Cannot connect to {endpoint.Display}: {ex.Message}", endpoint.Display, ex),
        };
    }
}
