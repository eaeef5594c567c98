using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>EcomDr's own client protocol against real MariaDB servers: one plain, one with TLS and a 64 MiB packet limit.</summary>
public sealed class WireConnectionTests : IAsyncLifetime
{
    private readonly string _certs = Path.Join(Path.GetTempPath(), "ecomdr-tls-" + Guid.NewGuid().ToString("N"));
    private MariaDbServer _plain = null!;
    private MariaDbServer _tls = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_certs);
        using (var key = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=ecomdr-test-server", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(Path.Join(_certs, "server.pem"), cert.ExportCertificatePem());
            await File.WriteAllTextAsync(Path.Join(_certs, "server.key"), key.ExportPkcs8PrivateKeyPem());
        }

        var servers = await Task.WhenAll(
            MariaDbServer.StartAsync(),
            MariaDbServer.StartAsync(new MariaDbOptions
            {
                MaxAllowedPacket = "64M",
                ExtraArguments = new[] { $"--ssl-cert={Path.Join(_certs, "server.pem")}", $"--ssl-key={Path.Join(_certs, "server.key")}" },
            }));
        (_plain, _tls) = (servers[0], servers[1]);
        await _plain.CreateUserAsync("shipper", "s3cret-Pässword", "SELECT ON *.*");
        await _tls.CreateUserAsync("shipper", "s3cret-Pässword", "SELECT ON *.*");
    }

    public async Task DisposeAsync()
    {
        await _plain.DisposeAsync();
        await _tls.DisposeAsync();
        Directory.Delete(_certs, recursive: true);
    }

    private static MySqlEndpoint Endpoint(MariaDbServer server, string user = "shipper", string password = "s3cret-Pässword", string ssl = "None") =>
        new("127.0.0.1", server.Port, user, new Secret(password), ssl);

    [Fact]
    public async Task LogsInWithAPasswordAndReadsRowsAsTheServerSentThem()
    {
        await using var c = await WireConnection.OpenAsync(Endpoint(_plain), CancellationToken.None);
        Assert.True(c.IsMariaDb);
        Assert.Equal("mysql_native_password", c.AuthPlugin);
        Assert.False(c.IsTls);
        var rows = await c.QueryRowsAsync("SELECT CURRENT_USER(), NULL, 'ç''\\n', 12.50, X'00FF' UNION ALL SELECT 'b', 'x', '', 0, ''", CancellationToken.None);
        Assert.Equal(2, rows.Count);
        Assert.Equal(new string?[] { "shipper@127.0.0.1", null, "ç'\n", "12.50", "\0\uFFFD" }, rows[0]);
        Assert.Equal("", rows[1][2]);
    }

    [Fact]
    public async Task AWrongPasswordIsAnAuthenticationErrorThatDoesNotCarryThePassword()
    {
        var ex = await Assert.ThrowsAsync<EcomDrException>(() => WireConnection.OpenAsync(Endpoint(_plain, password: "not-the-Secret-123"), CancellationToken.None));
        Assert.Equal((ErrorIds.AuthenticationFailed, FailureKind.AuthenticationError), (ex.ErrorId, ex.Kind));
        Assert.DoesNotContain("not-the-Secret-123", ex.ToString(), StringComparison.Ordinal);
        Assert.Equal(1045, Assert.IsType<WireServerException>(ex.InnerException).Code);
    }

    [Fact]
    public async Task ServerErrorsCarryTheirNumberAndLeaveTheConnectionUsable()
    {
        await using var c = await WireConnection.OpenAsync(Endpoint(_plain, "root", ""), CancellationToken.None);
        var ex = await Assert.ThrowsAsync<WireServerException>(() => c.ExecuteAsync("SELECT * FROM no_such_db.t", CancellationToken.None));
        Assert.Equal(1146, ex.Code);
        Assert.Equal("42S02", ex.SqlState);
        await c.ExecuteAsync("CREATE DATABASE errs", CancellationToken.None);
        Assert.Equal(3L, await c.ExecuteAsync("CREATE TABLE errs.t AS SELECT 1 AS a UNION SELECT 2 UNION SELECT 3", CancellationToken.None));
        Assert.Equal("3", await c.ScalarAsync("SELECT COUNT(*) FROM errs.t", CancellationToken.None));
    }

    [Fact]
    public async Task LoadDataLocalStreamsTheCallersDataInPiecesAndReportsSkippedRows()
    {
        await using var c = await WireConnection.OpenAsync(Endpoint(_plain, "root", ""), CancellationToken.None, localFiles: true);
        await c.ExecuteAsync("CREATE DATABASE loadlocal", CancellationToken.None);
        await c.ExecuteAsync("CREATE TABLE loadlocal.t (id INT PRIMARY KEY, v VARCHAR(20))", CancellationToken.None);
        var load = Encoding.UTF8.GetBytes("LOAD DATA LOCAL INFILE 'x' INTO TABLE loadlocal.t FIELDS TERMINATED BY ','");

        // 3 MiB in one write: sent as several packets, none of them empty before the end.
        var text = new StringBuilder();
        for (var i = 1; text.Length < 3 << 20; i++)
        {
            text.Append(i).Append(",row-").Append(i).Append('\n');
        }

        var rows = text.ToString().Count(ch => ch == '\n');
        var sent = 0L;
        var loaded = await c.LoadLocalAsync(load, async sink =>
        {
            await sink.WriteAsync(Encoding.ASCII.GetBytes(text.ToString()), CancellationToken.None);
            sent = sink.BytesSent;
        }, CancellationToken.None);
        Assert.Equal(text.Length, sent);
        Assert.Equal(rows, loaded.AffectedRows);
        Assert.Equal(0, loaded.Skipped);
        Assert.Equal(rows.ToString(System.Globalization.CultureInfo.InvariantCulture), await c.ScalarAsync("SELECT COUNT(*) FROM loadlocal.t", CancellationToken.None));

        // LOCAL turns a duplicate key into a skipped row with a warning: the result says how many.
        var again = await c.LoadLocalAsync(load, sink => sink.WriteAsync("1,dup\n999999999,new\n"u8.ToArray(), CancellationToken.None).AsTask(), CancellationToken.None);
        Assert.Equal(1, again.AffectedRows);
        Assert.Equal(1, again.Skipped);
        Assert.Contains("Skipped: 1", again.Info, StringComparison.Ordinal);

        // Data that fails half-way: the data is ended, the caller's error comes out, the connection stays in step.
        var boom = await Assert.ThrowsAsync<InvalidDataException>(() => c.LoadLocalAsync(load, async sink =>
        {
            await sink.WriteAsync("2000000000,half\n"u8.ToArray(), CancellationToken.None);
            throw new InvalidDataException("hash mismatch");
        }, CancellationToken.None));
        Assert.Equal("hash mismatch", boom.Message);
        Assert.Equal("1", await c.ScalarAsync("SELECT 1", CancellationToken.None));
    }

    [Fact]
    public async Task TheServerCannotPullAFileAndARefusedLoadLeavesTheConnectionUsable()
    {
        // A query that is not a LoadLocalAsync never answers a request for a file, even on a connection that offers LOCAL.
        await using (var c = await WireConnection.OpenAsync(Endpoint(_plain, "root", ""), CancellationToken.None, localFiles: true))
        {
            await c.ExecuteAsync("CREATE DATABASE IF NOT EXISTS pull", CancellationToken.None);
            await c.ExecuteAsync("CREATE TABLE pull.t (line TEXT)", CancellationToken.None);
            await Assert.ThrowsAsync<InvalidDataException>(() => c.ExecuteAsync("LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE pull.t", CancellationToken.None));
            await Assert.ThrowsAsync<InvalidOperationException>(() => c.ExecuteAsync("SELECT 1", CancellationToken.None));
        }

        await using var other = await WireConnection.OpenAsync(Endpoint(_plain, "root", ""), CancellationToken.None);
        Assert.Equal("0", await other.ScalarAsync("SELECT COUNT(*) FROM pull.t", CancellationToken.None));

        // A connection that did not offer LOCAL is refused by the server before any data.
        var refused = await Assert.ThrowsAsync<WireServerException>(() => other.LoadLocalAsync(
            Encoding.UTF8.GetBytes("LOAD DATA LOCAL INFILE 'x' INTO TABLE pull.t"), _ => throw new InvalidOperationException("never asked"), CancellationToken.None));
        Assert.Equal(4166, refused.Code); // ER_LOAD_INFILE_CAPABILITY_DISABLED
        Assert.Equal("1", await other.ScalarAsync("SELECT 1", CancellationToken.None));
    }

    [Fact]
    public async Task TlsIsUsedWhenOfferedRequiredWhenAskedAndVerifiedWhenAsked()
    {
        await using (var c = await WireConnection.OpenAsync(Endpoint(_tls, ssl: "Preferred"), CancellationToken.None))
        {
            Assert.True(c.IsTls);
            var cipher = await c.QueryRowsAsync("SHOW SESSION STATUS LIKE 'Ssl_cipher'", CancellationToken.None);
            Assert.NotEqual("", cipher.Single()[1]);
        }

        await using (var c = await WireConnection.OpenAsync(Endpoint(_tls, ssl: "None"), CancellationToken.None))
        {
            Assert.False(c.IsTls);
        }

        // The plain server offers no TLS: Required refuses to fall back; a self-signed certificate fails VerifyFull.
        var noTls = await Assert.ThrowsAsync<EcomDrException>(() => WireConnection.OpenAsync(Endpoint(_plain, ssl: "Required"), CancellationToken.None));
        Assert.Equal(ErrorIds.ConnectionFailed, noTls.ErrorId);
        Assert.Contains("does not offer TLS", noTls.Message, StringComparison.Ordinal);
        var untrusted = await Assert.ThrowsAsync<EcomDrException>(() => WireConnection.OpenAsync(Endpoint(_tls, ssl: "VerifyFull"), CancellationToken.None));
        Assert.Equal(ErrorIds.ConnectionFailed, untrusted.ErrorId);
    }

    [Fact]
    public async Task PayloadsOver16MiBAreSplitAndJoinedBothWays()
    {
        await using var c = await WireConnection.OpenAsync(Endpoint(_tls, "root", "", "Required"), CancellationToken.None);
        await c.ExecuteAsync("CREATE DATABASE big", CancellationToken.None);
        await c.ExecuteAsync("CREATE TABLE big.t (id INT PRIMARY KEY, b LONGBLOB)", CancellationToken.None);

        // A 20 MiB statement goes out as two packets; exactly 16 MiB - 1 needs the trailing empty packet.
        foreach (var (id, size) in new[] { (1, 20 << 20), (2, PacketChannel.MaxPayload - 40) })
        {
            var prefix = Encoding.ASCII.GetBytes($"INSERT INTO big.t VALUES ({id}, '");
            var statement = new byte[prefix.Length + size + 2];
            prefix.CopyTo(statement, 0);
            statement.AsSpan(prefix.Length, size).Fill((byte)'z');
            statement[^2] = (byte)'\'';
            statement[^1] = (byte)')';
            Assert.Equal(1L, await c.ExecuteAsync(statement, CancellationToken.None));
            Assert.Equal(size.ToString(), await c.ScalarAsync($"SELECT LENGTH(b) FROM big.t WHERE id = {id}", CancellationToken.None));
        }

        // A 20 MiB row comes back as one row, joined from two packets, then the connection stays in step.
        var result = await c.QueryAsync("SELECT id, b FROM big.t WHERE id = 1", CancellationToken.None);
        Assert.True(await result.ReadAsync(CancellationToken.None));
        var r = result.Strings();
        Assert.Equal("1", r[0]);
        Assert.Equal(20 << 20, r[1]!.Length);
        Assert.True(r[1]!.All(ch => ch == 'z'));
        Assert.False(await result.ReadAsync(CancellationToken.None));
        Assert.Equal("2", await c.ScalarAsync("SELECT COUNT(*) FROM big.t", CancellationToken.None));
    }

    [Fact]
    public async Task ACancelledQueryBreaksOnlyItsOwnConnection()
    {
        await using var c = await WireConnection.OpenAsync(Endpoint(_plain, "root", ""), CancellationToken.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => c.ExecuteAsync("SELECT SLEEP(5)", cts.Token));
        await Assert.ThrowsAsync<InvalidOperationException>(() => c.ExecuteAsync("SELECT 1", CancellationToken.None));
        await using var other = await WireConnection.OpenAsync(Endpoint(_plain, "root", ""), CancellationToken.None);
        Assert.Equal("1", await other.ScalarAsync("SELECT 1", CancellationToken.None));
    }
}
