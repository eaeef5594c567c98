using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MySqlConnector;

namespace EcomDr.TestKit.Shop;

/// <summary>
/// A tiny stand-in for the shop's API, for drill probes: it answers from whichever database the
/// request names (?host=&amp;port=&amp;schema=, as a drill fills in the restored one), so a probe
/// passes only when the restored shop really serves. GET /healthz counts orders; POST /api/login finds
/// a customer by e-mail; POST /api/checkout places an order for the cheapest product inside a
/// transaction it rolls back (a dummy checkout that changes nothing).
/// </summary>
public sealed class ShopApp : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly string _user;
    private readonly string _password;

    private ShopApp(int port, string user, string password)
    {
        Port = port;
        _user = user;
        _password = password;
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}";

    /// <summary>Starts on a free loopback port; the database user it connects as (root without password by default, as in a sandbox).</summary>
    public static ShopApp Start(string user = "root", string password = "")
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new ShopApp(port, user, password);
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
        {
        }

        _listener.Close();
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var (status, body) = (500, "");
        try
        {
            (status, body) = await AnswerAsync(context.Request).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MySqlException or JsonException or FormatException or InvalidOperationException)
        {
            (status, body) = (503, JsonSerializer.Serialize(new { error = ex.Message }));
        }

        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        context.Response.Close();
    }

    private async Task<(int Status, string Body)> AnswerAsync(HttpListenerRequest request)
    {
        var query = request.QueryString;
        var schema = query["schema"] ?? "ecommerce";
        var builder = new MySqlConnectionStringBuilder
        {
            Server = query["host"] ?? "127.0.0.1",
            Port = uint.Parse(query["port"] ?? "3306", System.Globalization.CultureInfo.InvariantCulture),
            UserID = _user,
            Password = _password,
            Database = schema,
            SslMode = MySqlSslMode.None,
            ConnectionTimeout = 5,
        };
        await using var c = new MySqlConnection(builder.ConnectionString);
        await c.OpenAsync().ConfigureAwait(false);
        switch (request.HttpMethod, request.Url!.AbsolutePath)
        {
            case ("GET", "/healthz"):
            {
                await using var cmd = new MySqlCommand("SELECT COUNT(*) FROM orders", c);
                return (200, JsonSerializer.Serialize(new { status = "ok", orders = Convert.ToInt64(await cmd.ExecuteScalarAsync().ConfigureAwait(false)) }));
            }

            case ("POST", "/api/login"):
            {
                using var reader = new StreamReader(request.InputStream, Encoding.UTF8);
                var email = JsonDocument.Parse(await reader.ReadToEndAsync().ConfigureAwait(false)).RootElement.GetProperty("email").GetString();
                await using var cmd = new MySqlCommand("SELECT id FROM customers WHERE email = @e", c);
                cmd.Parameters.AddWithValue("@e", email);
                return await cmd.ExecuteScalarAsync().ConfigureAwait(false) is { } id
                    ? (200, JsonSerializer.Serialize(new { token = $"customer-{id}" }))
                    : (401, JsonSerializer.Serialize(new { error = "unknown customer" }));
            }

            case ("POST", "/api/checkout"):
            {
                await using var transaction = await c.BeginTransactionAsync().ConfigureAwait(false);
                await using var cmd = new MySqlCommand("""
                    INSERT INTO orders (customer_id, status, item_count, total, placed_at)
                    SELECT (SELECT MIN(id) FROM customers), 'pending', 1, MIN(price), NOW(6) FROM products
                    """, c, transaction);
                var inserted = await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
                await transaction.RollbackAsync().ConfigureAwait(false);
                return (200, JsonSerializer.Serialize(new { ok = inserted == 1, dryRun = true }));
            }

            default:
                return (404, "{}");
        }
    }
}
