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
    private int _serverCuts;
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

    /// <summary>
    /// When set, each new connection passes on this many bytes of what the server sends and is then
    /// reset on both sides: a link lost at an exact point. (A <see cref="Cut"/> timed from what the
    /// client has read can come after the rest already sits in the client's socket buffer.)
    /// </summary>
    public long? CutServerAfter { get; set; }

    /// <summary>How many connections <see cref="CutServerAfter"/> has reset.</summary>
    public int ServerCuts => _serverCuts;

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

        // Each direction passes its end on as a half-close (FIN after the last byte), and the sockets are
        // closed only when both ended: closing while the other side still has unsent data queued, or a
        // receive pending, resets the connection and drops that data, which a real link does not do.
        await Task.WhenAll(PumpAsync(client, server, null, null), PumpAsync(server, client, FlipServerByteAt, CutServerAfter)).ConfigureAwait(false);

        client.Close();
        server.Close();
    }

    private async Task PumpAsync(Socket from, Socket to, long? flipAt, long? cutAt)
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
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                var cut = cutAt is { } limit && passed + n >= limit;
                if (cut)
                {
                    n = (int)(cutAt!.Value - passed);
                }

                if (flipAt is { } at && at >= passed && at < passed + n)
                {
                    buffer[at - passed] ^= 0x10;
                }

                passed += n;

                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None).ConfigureAwait(false);
                if (cut)
                {
                    Interlocked.Increment(ref _serverCuts); // counted before the client can see the reset
                    Reset(from, to);
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // A reset on one side is passed on as a reset on the other.
            Reset(from, to);
        }
    }

    private static void Reset(params Socket[] sockets)
    {
        foreach (var socket in sockets)
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        Cut();
        return ValueTask.CompletedTask;
    }
}
