using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Sources.Redis;

/// <summary>A RESP reply: a simple string, an error, an integer, a bulk string (null when absent) or an array.</summary>
public sealed record RespReply(char Kind, string? Text, long Integer = 0, byte[]? Bytes = null, IReadOnlyList<RespReply>? Items = null)
{
    public bool IsError => Kind == '-';

    public string AsText() => Text ?? (Bytes is null ? "" : Encoding.UTF8.GetString(Bytes));
}

/// <summary>
/// One connection to Redis speaking RESP2: commands as arrays of bulk strings, replies read as they
/// come. Every read waits at most the endpoint's read timeout, so a stalled server is a clear error,
/// never a hang. TLS is off, on without checking the certificate, or verified (with an optional CA).
/// The password is sent once, in AUTH, and never reaches a message.
/// </summary>
public sealed class RespConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _start;
    private int _end;

    private RespConnection(RedisEndpoint endpoint, TcpClient tcp, Stream stream)
    {
        Endpoint = endpoint;
        _tcp = tcp;
        _stream = stream;
    }

    public RedisEndpoint Endpoint { get; }

    /// <summary>Connects, negotiates TLS as configured and authenticates.</summary>
    public static async Task<RespConnection> ConnectAsync(RedisEndpoint endpoint, CancellationToken ct)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                connecting.CancelAfter(endpoint.ReadTimeout);
                try
                {
                    await tcp.ConnectAsync(endpoint.Server, endpoint.Port, connecting.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
                {
                    throw new EcomDrException(ErrorIds.ConnectionFailed, FailureKind.ConnectionError, $"Redis at {endpoint.Display} is unreachable: {ex.Message}", endpoint.Display, ex);
                }
            }

            Stream stream = tcp.GetStream();
            if (endpoint.Tls != RedisTlsMode.None)
            {
                stream = await TlsAsync(endpoint, stream, ct).ConfigureAwait(false);
            }

            var connection = new RespConnection(endpoint, tcp, stream);
            if (endpoint.Password is { } password)
            {
                var reply = await connection.CommandAsync(ct, "AUTH", endpoint.User ?? "default", password.Reveal()).ConfigureAwait(false);
                if (reply.IsError)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                    throw new EcomDrException(ErrorIds.AuthenticationFailed, FailureKind.AuthenticationError,
                        $"Redis at {endpoint.Display} refused the login of user '{endpoint.User ?? "default"}': {FirstWord(reply.Text)} (the password is not shown).", endpoint.Display);
                }
            }

            return connection;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Sends a command and reads its reply.</summary>
    public async Task<RespReply> CommandAsync(CancellationToken ct, params string[] args)
    {
        await SendAsync(ct, args).ConfigureAwait(false);
        return await ReadReplyAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Sends a command without reading a reply (SYNC answers with the RDB itself).</summary>
    public async Task SendAsync(CancellationToken ct, params string[] args)
    {
        var command = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (var arg in args)
        {
            command.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        }

        var bytes = Encoding.UTF8.GetBytes(command.ToString());
        try
        {
            await _stream.WriteAsync(bytes, ct).ConfigureAwait(false);
            await _stream.FlushAsync(ct).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw Lost(ex);
        }
        finally
        {
            // AUTH's password was in there.
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>
    /// Sends binary-safe commands (keys and DUMP payloads are bytes, not text) in one write, then reads
    /// their replies in order: one round trip for the batch.
    /// </summary>
    public async Task<IReadOnlyList<RespReply>> PipelineAsync(IReadOnlyList<IReadOnlyList<ReadOnlyMemory<byte>>> commands, CancellationToken ct)
    {
        using var batch = new MemoryStream();
        foreach (var args in commands)
        {
            WriteAscii(batch, $"*{args.Count}\r\n");
            foreach (var arg in args)
            {
                WriteAscii(batch, $"${arg.Length}\r\n");
                batch.Write(arg.Span);
                batch.Write("\r\n"u8);
            }
        }

        try
        {
            await _stream.WriteAsync(batch.GetBuffer().AsMemory(0, (int)batch.Length), ct).ConfigureAwait(false);
            await _stream.FlushAsync(ct).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw Lost(ex);
        }

        var replies = new List<RespReply>(commands.Count);
        for (var i = 0; i < commands.Count; i++)
        {
            replies.Add(await ReadReplyAsync(ct).ConfigureAwait(false));
        }

        return replies;
    }

    private static void WriteAscii(Stream stream, string text) => stream.Write(Encoding.ASCII.GetBytes(text));

    public async Task<RespReply> ReadReplyAsync(CancellationToken ct)
    {
        var line = await ReadLineAsync(ct).ConfigureAwait(false);
        if (line.Length == 0)
        {
            throw Protocol("an empty reply line");
        }

        var rest = line[1..];
        switch (line[0])
        {
            case '+':
            case '-':
                return new RespReply(line[0], rest);
            case ':':
                return new RespReply(':', null, long.Parse(rest, System.Globalization.CultureInfo.InvariantCulture));
            case '$':
            {
                var length = int.Parse(rest, System.Globalization.CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    return new RespReply('$', null);
                }

                var bytes = new byte[length];
                await ReadExactAsync(bytes, ct).ConfigureAwait(false);
                await ReadLineAsync(ct).ConfigureAwait(false);
                return new RespReply('$', null, Bytes: bytes);
            }

            case '*':
            {
                var count = int.Parse(rest, System.Globalization.CultureInfo.InvariantCulture);
                var items = new List<RespReply>(Math.Max(0, count));
                for (var i = 0; i < count; i++)
                {
                    items.Add(await ReadReplyAsync(ct).ConfigureAwait(false));
                }

                return new RespReply('*', null, Items: count < 0 ? null : items);
            }

            default:
                throw Protocol($"a reply starting with '{line[0]}'");
        }
    }

    /// <summary>One line without its CR LF (a lone LF ends it too).</summary>
    public async Task<string> ReadLineAsync(CancellationToken ct)
    {
        var line = new List<byte>();
        while (true)
        {
            var b = await ReadByteAsync(ct).ConfigureAwait(false);
            if (b == '\n')
            {
                if (line.Count > 0 && line[^1] == '\r')
                {
                    line.RemoveAt(line.Count - 1);
                }

                return Encoding.UTF8.GetString(line.ToArray());
            }

            line.Add(b);
            if (line.Count > 1 << 20)
            {
                throw Protocol("a reply line longer than 1 MiB");
            }
        }
    }

    public async ValueTask<byte> ReadByteAsync(CancellationToken ct)
    {
        if (_start == _end)
        {
            await FillAsync(ct).ConfigureAwait(false);
        }

        return _buffer[_start++];
    }

    /// <summary>Some bytes (at least one): the buffered ones first, then one read from the server.</summary>
    public async ValueTask<int> ReadSomeAsync(Memory<byte> destination, CancellationToken ct)
    {
        if (_start == _end)
        {
            await FillAsync(ct).ConfigureAwait(false);
        }

        var n = Math.Min(destination.Length, _end - _start);
        _buffer.AsMemory(_start, n).CopyTo(destination);
        _start += n;
        return n;
    }

    public async Task ReadExactAsync(Memory<byte> destination, CancellationToken ct)
    {
        while (destination.Length > 0)
        {
            var n = await ReadSomeAsync(destination, ct).ConfigureAwait(false);
            destination = destination[n..];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _tcp.Dispose();
    }

    private async Task FillAsync(CancellationToken ct)
    {
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(ct);
        waiting.CancelAfter(Endpoint.ReadTimeout);
        int n;
        try
        {
            n = await _stream.ReadAsync(_buffer, waiting.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new EcomDrException(ErrorIds.ConnectionFailed, FailureKind.ConnectionError,
                $"Redis at {Endpoint.Display} sent nothing for {Endpoint.ReadTimeout.TotalSeconds:0} s (readTimeoutSeconds); the transfer was abandoned.", Endpoint.Display);
        }
        catch (IOException ex)
        {
            throw Lost(ex);
        }

        if (n == 0)
        {
            throw Lost(null);
        }

        (_start, _end) = (0, n);
    }

    private static async Task<Stream> TlsAsync(RedisEndpoint endpoint, Stream stream, CancellationToken ct)
    {
        X509Certificate2Collection? trusted = null;
        if (endpoint.CaFile is { } caFile)
        {
            trusted = new X509Certificate2Collection();
            trusted.ImportFromPemFile(caFile);
        }

        var tls = new SslStream(stream, leaveInnerStreamOpen: false, (_, certificate, chain, errors) => endpoint.Tls == RedisTlsMode.Required || Verify(certificate, chain, errors, trusted));
        try
        {
            using var handshake = CancellationTokenSource.CreateLinkedTokenSource(ct);
            handshake.CancelAfter(endpoint.ReadTimeout);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = endpoint.Server }, handshake.Token).ConfigureAwait(false);
            return tls;
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw new EcomDrException(ErrorIds.ConnectionFailed, FailureKind.ConnectionError,
                $"Redis at {endpoint.Display}: the TLS handshake failed ({ex.Message}); is TLS enabled on that port (tls-port), and is its certificate trusted?", endpoint.Display, ex);
        }
    }

    private static bool Verify(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, X509Certificate2Collection? trusted)
    {
        if (trusted is null || certificate is null)
        {
            return errors == SslPolicyErrors.None;
        }

        // A private CA replaces the system roots; the host name is still checked.
        if ((errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(trusted);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return custom.Build(new X509Certificate2(certificate));
    }

    private static string FirstWord(string? error) => error is null ? "" : error.Split(' ', 2)[0];

    private EcomDrException Lost(Exception? inner) =>
        new(ErrorIds.ConnectionFailed, FailureKind.ConnectionError, $"Redis at {Endpoint.Display} closed the connection before the transfer ended.", Endpoint.Display, inner);

    private EcomDrException Protocol(string what) =>
        new(ErrorIds.ConnectionFailed, FailureKind.InvalidData, $"Redis at {Endpoint.Display} answered with {what}: not the Redis protocol.", Endpoint.Display);
}
