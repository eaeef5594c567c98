using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.Redis;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Sources.Redis;

/// <summary>
/// Snapshots over TLS from a real Redis with TLS on (Debian's redis-server is built with it), under a
/// private CA made for the test: verified with the CA, encrypted without checking, and refused when
/// the certificate is not trusted or names another host.
/// </summary>
public sealed class RedisTlsTests : IAsyncLifetime
{
    private readonly RepoFixture _repo = new();
    private readonly int _tlsPort = ServerProcess.FreePort();
    private RedisServer _redis = null!;

    private string CaFile => Path.Join(_repo.Root, "ca.pem");

    public async Task InitializeAsync()
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=EcomDr test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        using var serverKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")], false));
        using var server = request.Create(ca, now.AddDays(-1), now.AddDays(29), RandomNumberGenerator.GetBytes(8));
        await File.WriteAllTextAsync(CaFile, ca.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Join(_repo.Root, "server.pem"), server.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Join(_repo.Root, "server.key"), serverKey.ExportPkcs8PrivateKeyPem());
        _redis = await RedisServer.StartAsync(null,
        [
            "--tls-port", _tlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--tls-cert-file", Path.Join(_repo.Root, "server.pem"),
            "--tls-key-file", Path.Join(_repo.Root, "server.key"), "--tls-ca-cert-file", CaFile, "--tls-auth-clients", "no",
        ]);
        await _redis.CommandAsync("SET greeting hello");
    }

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        _repo.Dispose();
    }

    private RedisEndpoint Endpoint(string host, RedisTlsMode tls, string? ca) => new(host, _tlsPort, tls, ca, null, null, TimeSpan.FromSeconds(10));

    [Fact]
    public async Task VerifiesTheServerAgainstThePrivateCaAndRefusesWhatItCannotTrust()
    {
        var verified = await RedisSnapshot.RunAsync(_repo.Context, Endpoint("localhost", RedisTlsMode.Verify, CaFile), [], null, null, CancellationToken.None);
        Assert.Equal((BackupStatus.Complete, 1L), (verified.Backup.Status, verified.Rdb.Keys));

        var encrypted = await RedisSnapshot.RunAsync(_repo.Context, Endpoint("127.0.0.1", RedisTlsMode.Required, null), [], null, null, CancellationToken.None);
        Assert.Equal(BackupStatus.Complete, encrypted.Backup.Status);

        // Not trusted by the system roots, and a CA that does not vouch for the name asked for.
        var untrusted = await Assert.ThrowsAsync<EcomDrException>(() => RedisSnapshot.RunAsync(_repo.Context, Endpoint("localhost", RedisTlsMode.Verify, null), [], null, null,
            CancellationToken.None));
        Assert.Equal(ErrorIds.ConnectionFailed, untrusted.ErrorId);
        Assert.Contains("TLS handshake failed", untrusted.Message, StringComparison.Ordinal);
        var otherName = await Assert.ThrowsAsync<EcomDrException>(() => RedisSnapshot.RunAsync(_repo.Context, Endpoint("127.0.0.1", RedisTlsMode.Verify, CaFile), [], null, null,
            CancellationToken.None));
        Assert.Equal(ErrorIds.ConnectionFailed, otherName.ErrorId);

        // Plain text to the TLS port: the server closes it; nothing is written.
        var plain = await Assert.ThrowsAsync<EcomDrException>(() => RedisSnapshot.RunAsync(_repo.Context, Endpoint("127.0.0.1", RedisTlsMode.None, null), [], null, null,
            CancellationToken.None));
        Assert.Equal(ErrorIds.ConnectionFailed, plain.ErrorId);
        Assert.Equal(2, Directory.GetFiles(_repo.Store.Root, RepositoryLayout.ManifestName, SearchOption.AllDirectories).Length);
    }
}
