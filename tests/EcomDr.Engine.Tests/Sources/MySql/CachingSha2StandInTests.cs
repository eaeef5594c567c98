using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>
/// caching_sha2_password (MySQL 8.4's default) against a stand-in: no MySQL server can run here and
/// MariaDB has no such plugin. The stand-in speaks only the documented handshake and checks the
/// client's answers the way the server does (fast path: the scramble against the cached
/// SHA256(SHA256(password)); full authentication: the RSA-OAEP-encrypted password XOR nonce).
/// </summary>
public sealed class CachingSha2StandInTests
{
    private const string Password = "Sha2-Pässword!";

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public async Task CachingSha2StandIn_LogsInByFastPathOrFullAuthenticationWithTheServersRsaKey(bool cached, bool switchFromNative)
    {
        await using var standIn = StandIn.Start(cached, switchFromNative);
        await using var c = await WireConnection.OpenAsync(new MySqlEndpoint("127.0.0.1", standIn.Port, "app", new Secret(Password), "None"), CancellationToken.None);
        Assert.Equal("caching_sha2_password", c.AuthPlugin);
        await standIn.Done;
        Assert.Equal(cached ? "fast" : "rsa", standIn.Path);
        // Whatever the path, the password itself never crossed the (unencrypted) link.
        Assert.Equal(-1, standIn.Received.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Password)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CachingSha2StandIn_AWrongPasswordIsRefused(bool cached)
    {
        await using var standIn = StandIn.Start(cached, switchFromNative: false);
        var ex = await Assert.ThrowsAsync<EcomDrException>(() =>
            WireConnection.OpenAsync(new MySqlEndpoint("127.0.0.1", standIn.Port, "app", new Secret("wrong-one"), "None"), CancellationToken.None));
        Assert.Equal(ErrorIds.AuthenticationFailed, ex.ErrorId);
        Assert.DoesNotContain("wrong-one", ex.ToString(), StringComparison.Ordinal);
    }

    /// <summary>One connection's worth of a MySQL 8.4 server's authentication, per the protocol documentation.</summary>
    private sealed class StandIn : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly RSA _rsa = RSA.Create(2048);
        private readonly MemoryStream _received = new();

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public Task Done { get; private set; } = Task.CompletedTask;

        public string Path { get; private set; } = "";

        public byte[] Received => _received.ToArray();

        public static StandIn Start(bool cached, bool switchFromNative)
        {
            var s = new StandIn();
            s._listener.Start();
            s.Done = s.ServeAsync(cached, switchFromNative);
            return s;
        }

        private async Task ServeAsync(bool cached, bool switchFromNative)
        {
            using var client = await _listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var nonce = RandomNumberGenerator.GetBytes(20).Select(b => (byte)(b % 90 + 33)).ToArray();
            byte seq = 0;
            await WriteAsync(stream, seq++, Greeting(nonce, switchFromNative ? "mysql_native_password" : "caching_sha2_password"));
            var (response, next) = await ReadAsync(stream);
            seq = next;
            // HandshakeResponse41: caps 4, max packet 4, charset 1, filler 23, user NUL, auth data (length-encoded), ...
            var at = 32;
            while (response[at] != 0)
            {
                at++;
            }

            var authLength = response[++at];
            var scramble = response.AsSpan(at + 1, authLength).ToArray();
            if (switchFromNative)
            {
                nonce = RandomNumberGenerator.GetBytes(20).Select(b => (byte)(b % 90 + 33)).ToArray();
                await WriteAsync(stream, seq++, new byte[] { 0xFE }.Concat(Encoding.ASCII.GetBytes("caching_sha2_password\0")).Concat(nonce).Append((byte)0).ToArray());
                (scramble, seq) = await ReadAsync(stream);
            }

            var sha = SHA256.HashData(Encoding.UTF8.GetBytes(Password));
            if (cached)
            {
                Path = "fast";
                var expected = SHA256.HashData(SHA256.HashData(sha).Concat(nonce).ToArray());
                for (var i = 0; i < expected.Length; i++)
                {
                    expected[i] ^= sha[i];
                }

                if (!scramble.SequenceEqual(expected))
                {
                    await WriteAsync(stream, seq, Error());
                    return;
                }

                await WriteAsync(stream, seq++, new byte[] { 0x01, 0x03 });
                await WriteAsync(stream, seq, Ok());
                return;
            }

            Path = "rsa";
            await WriteAsync(stream, seq++, new byte[] { 0x01, 0x04 });
            var (request, s2) = await ReadAsync(stream);
            Assert.Equal(new byte[] { 0x02 }, request);
            await WriteAsync(stream, s2, new byte[] { 0x01 }.Concat(Encoding.ASCII.GetBytes(_rsa.ExportSubjectPublicKeyInfoPem())).ToArray());
            var (encrypted, s3) = await ReadAsync(stream);
            var plain = _rsa.Decrypt(encrypted, RSAEncryptionPadding.OaepSHA1);
            for (var i = 0; i < plain.Length; i++)
            {
                plain[i] ^= nonce[i % nonce.Length];
            }

            await WriteAsync(stream, s3, plain.SequenceEqual(Encoding.UTF8.GetBytes(Password + "\0")) ? Ok() : Error());
        }

        private static byte[] Greeting(byte[] nonce, string plugin)
        {
            const uint caps = 0x200 | 0x8000 | 0x80000 | 0x200000 | 0x2000 | 0x1 | 0x4;
            var g = new List<byte> { 10 };
            g.AddRange(Encoding.ASCII.GetBytes("8.4.3-stand-in\0"));
            g.AddRange(BitConverter.GetBytes(7u));
            g.AddRange(nonce[..8]);
            g.Add(0);
            g.AddRange(BitConverter.GetBytes((ushort)(caps & 0xFFFF)));
            g.Add(255);
            g.AddRange(BitConverter.GetBytes((ushort)2));
            g.AddRange(BitConverter.GetBytes((ushort)(caps >> 16)));
            g.Add(21);
            g.AddRange(new byte[10]);
            g.AddRange(nonce[8..]);
            g.Add(0);
            g.AddRange(Encoding.ASCII.GetBytes(plugin + "\0"));
            return g.ToArray();
        }

        private static byte[] Ok() => new byte[] { 0x00, 0, 0, 2, 0, 0, 0 };

        private static byte[] Error() => new byte[] { 0xFF, 0x15, 0x04, (byte)'#' }.Concat(Encoding.ASCII.GetBytes("28000Access denied for user 'app'@'localhost' (using password: YES)")).ToArray();

        private static async Task WriteAsync(NetworkStream stream, byte seq, byte[] payload)
        {
            var header = new byte[] { (byte)payload.Length, (byte)(payload.Length >> 8), (byte)(payload.Length >> 16), seq };
            await stream.WriteAsync(header.Concat(payload).ToArray());
        }

        private async Task<(byte[] Payload, byte NextSeq)> ReadAsync(NetworkStream stream)
        {
            var header = new byte[4];
            await stream.ReadExactlyAsync(header);
            var payload = new byte[header[0] | (header[1] << 8) | (header[2] << 16)];
            await stream.ReadExactlyAsync(payload);
            _received.Write(payload);
            return (payload, (byte)(header[3] + 1));
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _rsa.Dispose();
            try
            {
                await Done;
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
            }
        }
    }
}
