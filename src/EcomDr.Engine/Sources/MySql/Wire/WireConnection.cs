using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Sources.MySql.Wire;

/// <summary>
/// EcomDr's own MySQL/MariaDB client connection: handshake, TLS, authentication and the text
/// protocol, with result rows handed out as raw payloads. The bulk paths use it where MySqlConnector
/// would decode every value (dump, restore) and where MySqlConnector has no API (binlog dump).
/// </summary>
public sealed partial class WireConnection : IAsyncDisposable
{
    private readonly PacketChannel _channel;
    private readonly TcpClient _tcp;
    private bool _broken;

    private WireConnection(TcpClient tcp, PacketChannel channel)
    {
        _tcp = tcp;
        _channel = channel;
    }

    public string ServerVersion { get; private set; } = "";

    public uint ConnectionId { get; private set; }

    /// <summary>The statements of the last query (several, on a multi-statement connection) that completed: those before an error ran.</summary>
    public int CompletedResults { get; internal set; }

    public bool IsMariaDb => ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);

    public bool IsTls { get; private set; }

    public string AuthPlugin { get; private set; } = "";

    internal PacketChannel Channel => _channel;

    /// <summary>
    /// Connects and logs in. <paramref name="multiStatements"/> lets one query carry several
    /// statements separated by ';' (fewer round trips for replay); nothing else needs it.
    /// <paramref name="localFiles"/> offers LOAD DATA LOCAL, which only <see cref="LoadLocalAsync"/>
    /// answers, with data the caller gives: never a file the server names.
    /// </summary>
    public static async Task<WireConnection> OpenAsync(MySqlEndpoint endpoint, CancellationToken ct, bool multiStatements = false, bool localFiles = false)
    {
        var tcp = new TcpClient { NoDelay = true };
        WireConnection? connection = null;
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                timeout.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, endpoint.ConnectTimeoutSeconds)));
                try
                {
                    await tcp.ConnectAsync(endpoint.Server, endpoint.Port, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new TimeoutException($"no answer within {endpoint.ConnectTimeoutSeconds} s");
                }
            }

            connection = new WireConnection(tcp, new PacketChannel(tcp.GetStream()));
            await connection.HandshakeAsync(endpoint, multiStatements, localFiles, ct).ConfigureAwait(false);
            return connection;
        }
        catch (WireServerException ex) when (ex.Code is WireServerException.AccessDenied or WireServerException.DatabaseAccessDenied)
        {
            await DisposeQuietlyAsync(connection, tcp).ConfigureAwait(false);
            throw new EcomDrException(ErrorIds.AuthenticationFailed, FailureKind.AuthenticationError,
                $"Login to {endpoint.Display} as '{endpoint.User}' was refused: {ex.Message}", endpoint.Display, ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not EcomDrException)
        {
            await DisposeQuietlyAsync(connection, tcp).ConfigureAwait(false);
            throw new EcomDrException(ErrorIds.ConnectionFailed, FailureKind.ConnectionError,
                $"Cannot connect to {endpoint.Display}: {ex.Message}", endpoint.Display, ex);
        }
        catch
        {
            await DisposeQuietlyAsync(connection, tcp).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs a statement and returns its affected-row count; any rows it returns are read and dropped.</summary>
    public Task<long> ExecuteAsync(string sql, CancellationToken ct) => ExecuteAsync(Encoding.UTF8.GetBytes(sql), ct);

    /// <summary>Runs a statement given as UTF-8 bytes (sent as they are, no re-encoding).</summary>
    public async Task<long> ExecuteAsync(ReadOnlyMemory<byte> sql, CancellationToken ct)
    {
        var result = await QueryAsync(sql, ct).ConfigureAwait(false);
        while (await result.ReadAsync(ct).ConfigureAwait(false))
        {
        }

        return result.AffectedRows;
    }

    /// <summary>
    /// Runs a query of exactly <paramref name="statements"/> statements that return no rows, reading
    /// that many results whatever their status flags say: MariaDB drops "more results exist" from the
    /// OK of a BINLOG statement, after which a reader that trusts the flag stops early and reads the
    /// rest as the answers to later queries. <see cref="CompletedResults"/> counts those that ran.
    /// </summary>
    public async Task ExecuteCountedAsync(ReadOnlyMemory<byte> sql, int statements, CancellationToken ct)
    {
        ThrowIfBroken();
        CompletedResults = 0;
        try
        {
            _channel.Sequence = 0;
            await _channel.WriteAsync(new byte[] { 0x03 }, sql, ct).ConfigureAwait(false);
            for (var i = 0; i < statements; i++)
            {
                var packet = await _channel.ReadAsync(ct).ConfigureAwait(false);
                switch (packet.Span[0])
                {
                    case 0x00:
                        CompletedResults++;
                        break;
                    case 0xFF:
                        throw WireServerException.Parse(packet.Span); // the server ran nothing after it
                    default:
                        throw new InvalidDataException("A statement of a counted query returned rows.");
                }
            }
        }
        catch (Exception ex) when (ex is not WireServerException)
        {
            _broken = true;
            throw;
        }
    }

    public Task<WireResult> QueryAsync(string sql, CancellationToken ct) => QueryAsync(Encoding.UTF8.GetBytes(sql), ct);

    /// <summary>Sends COM_QUERY and reads the result's header; rows are then read with <see cref="WireResult.ReadAsync"/>.</summary>
    public async Task<WireResult> QueryAsync(ReadOnlyMemory<byte> sql, CancellationToken ct)
    {
        ThrowIfBroken();
        CompletedResults = 0;
        try
        {
            _channel.Sequence = 0;
            await _channel.WriteAsync(new byte[] { 0x03 }, sql, ct).ConfigureAwait(false);
            return await WireResult.ReadHeaderAsync(this, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not WireServerException)
        {
            _broken = true;
            throw;
        }
    }

    /// <summary>A small result, every value as text (null for SQL NULL).</summary>
    public async Task<List<string?[]>> QueryRowsAsync(string sql, CancellationToken ct)
    {
        var result = await QueryAsync(sql, ct).ConfigureAwait(false);
        var rows = new List<string?[]>();
        while (await result.ReadAsync(ct).ConfigureAwait(false))
        {
            rows.Add(result.Strings());
        }

        return rows;
    }

    public async Task<string?> ScalarAsync(string sql, CancellationToken ct) =>
        (await QueryRowsAsync(sql, ct).ConfigureAwait(false)).FirstOrDefault()?[0];

    internal void MarkBroken() => _broken = true;

    internal void ThrowIfBroken()
    {
        if (_broken)
        {
            throw new InvalidOperationException("The connection was interrupted mid-command and cannot be reused.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_broken)
        {
            try
            {
                _channel.Sequence = 0;
                using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _channel.WriteAsync(new byte[] { 0x01 }, quick.Token).ConfigureAwait(false); // COM_QUIT
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // closing anyway
            }
        }

        _broken = true;
        await _channel.DisposeAsync().ConfigureAwait(false);
        _tcp.Dispose();
    }

    private static async Task DisposeQuietlyAsync(WireConnection? connection, TcpClient tcp)
    {
        if (connection is not null)
        {
            connection._broken = true;
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        tcp.Dispose();
    }

    private async Task HandshakeAsync(MySqlEndpoint endpoint, bool multiStatements, bool localFiles, CancellationToken ct)
    {
        var greeting = await _channel.ReadAsync(ct).ConfigureAwait(false);
        if (greeting.Span[0] == 0xFF)
        {
            throw WireServerException.Parse(greeting.Span);
        }

        var hello = ServerHello.Parse(greeting.Span);
        ServerVersion = hello.Version;
        ConnectionId = hello.ConnectionId;

        var mode = Enum.Parse<TlsMode>(endpoint.SslMode, ignoreCase: true);
        var serverTls = (hello.Capabilities & Capabilities.Ssl) != 0;
        if (mode >= TlsMode.Required && !serverTls)
        {
            throw new AuthenticationException($"SslMode {mode} was asked for, but the server does not offer TLS.");
        }

        var wanted = Capabilities.Client | (multiStatements ? Capabilities.MultiStatements : 0) | (localFiles ? Capabilities.LocalFiles : 0);
        var capabilities = wanted & (hello.Capabilities | Capabilities.Protocol41 | Capabilities.SecureConnection);
        if (mode != TlsMode.None && serverTls)
        {
            capabilities |= Capabilities.Ssl;
            await _channel.WriteAsync(ResponsePrefix(capabilities), ct).ConfigureAwait(false);
            var ssl = new SslStream(_channel.Stream, leaveInnerStreamOpen: false, (_, _, _, errors) => mode switch
            {
                TlsMode.VerifyFull => errors == SslPolicyErrors.None,
                TlsMode.VerifyCA => (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None,
                _ => true, // Preferred/Required encrypt without proving the server's identity, as the stock clients do
            });
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = endpoint.Server }, ct).ConfigureAwait(false);
            _channel.Replace(ssl);
            IsTls = true;
        }

        var password = endpoint.Password.RevealBytes();
        try
        {
            var plugin = WireAuth.IsSupported(hello.AuthPlugin) ? hello.AuthPlugin : WireAuth.NativePassword;
            var nonce = hello.Nonce;
            var answer = WireAuth.Answer(plugin, password, nonce, IsTls);
            var response = new List<byte>(ResponsePrefix(capabilities));
            response.AddRange(Encoding.UTF8.GetBytes(endpoint.User));
            response.Add(0);
            response.AddRange(LengthEncoded(answer.Length));
            response.AddRange(answer);
            response.AddRange(Encoding.ASCII.GetBytes(plugin));
            response.Add(0);
            await _channel.WriteAsync(response.ToArray(), ct).ConfigureAwait(false);
            AuthPlugin = plugin;
            await AuthenticateAsync(plugin, nonce, password, ct).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
        }
    }

    private async Task AuthenticateAsync(string plugin, byte[] nonce, byte[] password, CancellationToken ct)
    {
        for (var round = 0; round < 8; round++)
        {
            var reply = await _channel.ReadAsync(ct).ConfigureAwait(false);
            var span = reply.Span;
            switch (span[0])
            {
                case 0x00:
                    return;
                case 0xFF:
                    throw WireServerException.Parse(span);
                case 0xFE:
                {
                    // Auth switch: another plugin, with a fresh nonce.
                    var r = new WireReader(span[1..]);
                    plugin = r.NulTerminatedString();
                    var data = r.Rest();
                    nonce = (data.Length > 0 && data[^1] == 0 ? data[..^1] : data).ToArray();
                    if (!WireAuth.IsSupported(plugin))
                    {
                        throw new AuthenticationException($"The server asks for the authentication plugin '{plugin}', which EcomDr does not support.");
                    }

                    AuthPlugin = plugin;
                    await _channel.WriteAsync(WireAuth.Answer(plugin, password, nonce, IsTls), ct).ConfigureAwait(false);
                    break;
                }

                case 0x01 when plugin == WireAuth.CachingSha2 && span.Length == 2 && span[1] == 0x03:
                    break; // fast authentication succeeded; the OK packet follows
                case 0x01 when plugin == WireAuth.CachingSha2 && span.Length == 2 && span[1] == 0x04:
                    // Full authentication: the password itself, over TLS, or RSA-encrypted after fetching the server's key.
                    await _channel.WriteAsync(IsTls ? WireAuth.WithNul(password) : new byte[] { 0x02 }, ct).ConfigureAwait(false);
                    break;
                case 0x01:
                {
                    var pem = WireAuth.Pem(span[1..]);
                    await _channel.WriteAsync(WireAuth.RsaEncrypt(password, nonce, pem), ct).ConfigureAwait(false);
                    break;
                }

                default:
                    throw new InvalidDataException($"Unexpected authentication packet 0x{span[0]:X2} from the server.");
            }
        }

        throw new InvalidDataException("Authentication did not finish.");
    }

    private static byte[] ResponsePrefix(uint capabilities)
    {
        var prefix = new byte[32];
        BinaryPrimitives.WriteUInt32LittleEndian(prefix, capabilities);
        BinaryPrimitives.WriteUInt32LittleEndian(prefix.AsSpan(4), PacketChannel.MaxPayload);
        prefix[8] = 45; // utf8mb4_general_ci: known to MySQL 5.7+ and every MariaDB
        return prefix;
    }

    internal static byte[] LengthEncoded(long value) => value switch
    {
        < 0xFB => new[] { (byte)value },
        < 0x10000 => new byte[] { 0xFC, (byte)value, (byte)(value >> 8) },
        < 0x1000000 => new byte[] { 0xFD, (byte)value, (byte)(value >> 8), (byte)(value >> 16) },
        _ => new byte[] { 0xFE }.Concat(BitConverter.GetBytes(value)).ToArray(),
    };

    private enum TlsMode
    {
        None,
        Preferred,
        Required,
        VerifyCA,
        VerifyFull,
    }
}
