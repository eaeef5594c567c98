using System.Net;
using System.Net.Sockets;

namespace EcomDr.TestKit.Servers;

/// <summary>
/// A real TCP forwarder in front of a server, for network-loss tests: <see cref="Cut"/> resets every
/// connection through it and stops listening (connects are refused, as when a link or listener goes
/// down); <see cref="Restore"/> listens again on the same port.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly int _targetPort;
    private readonly List<Socket> _open = new();
    private TcpListener? _listener;
    private CancellationTokenSource _accepting = new();

    private TcpProxy(int targetPort, int port)
    {
        _targetPort = targetPort;
        Port = port;
    }

    public int Port { get; }

    public int Connections { get; private set; }

    /// <summary>
    /// When set, the byte at this offset of what the server sends on each new connection reaches the
    /// client with one bit flipped: damage in transit that TCP's own checksum would not catch.
    /// </summary>
    public long? FlipServerByteAt { get; set; }

    public static TcpProxy Start(int targetPort)
    {
        var proxy = new TcpProxy(targetPort, ServerProcess.FreePort());
        proxy.Restore();
        return proxy;
    }

    /// <summary>Resets every open connection and stops listening.</summary>
    public void Cut()
    {
        _accepting.Cancel();
        _listener?.Stop();
        _listener = null;
        lock (_open)
        {
            foreach (var socket in _open)
            {
                try
                {
                    socket.LingerState = new LingerOption(true, 0); // RST, as a dropped link looks to the peer
                    socket.Close();
                }
                catch (ObjectDisposedException)
                {
                }
            }

            _open.Clear();
        }
    }

    /// <summary>Listens (again) on <see cref="Port"/>.</summary>
    public void Restore()
    {
        _accepting = new CancellationTokenSource();
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        var token = _accepting.Token;
        _ = Task.Run(async () =>
        {
            while (!token.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await listener.AcceptSocketAsync(token).ConfigureAwait(false);
                }
                catch (Exception) when (token.IsCancellationRequested)
                {
                    return;
                }
                catch (SocketException)
                {
                    return;
                }

                _ = ForwardAsync(client);
            }
        });
    }

    private async Task ForwardAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _targetPort).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            client.Close();
            server.Close();
            return;
        }

        lock (_open)
        {
            _open.Add(client);
            _open.Add(server);
            Connections++;
        }

        await Task.WhenAny(PumpAsync(client, server, null), PumpAsync(server, client, FlipServerByteAt)).ConfigureAwait(false);
        client.Close();
        server.Close();
    }

    private static async Task PumpAsync(Socket from, Socket to, long? flipAt)
    {
        var buffer = new byte[64 << 10];
        var passed = 0L;
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (n == 0)
                {
                    return;
                }

                if (flipAt is { } at && at >= passed && at < passed + n)
                {
                    buffer[at - passed] ^= 0x10;
                }

                passed += n;

                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        Cut();
        return ValueTask.CompletedTask;
    }
}
