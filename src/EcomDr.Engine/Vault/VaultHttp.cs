using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Vault;

/// <summary>
/// One HttpClient per TLS trust (system roots, a CA file, or no verification), shared as HttpClient
/// is meant to be. A CA file replaces the system roots for that server: a private Vault CA is
/// trusted for Vault only, and the host name is still checked.
/// </summary>
public static class VaultHttp
{
    private static readonly ConcurrentDictionary<(string? CaFile, bool Verify), HttpClient> Clients = new();

    public static HttpClient For(string? caFile, bool verify)
    {
        if (caFile is not null && !File.Exists(caFile))
        {
            throw new EcomDrException(ErrorIds.PathNotFound, FailureKind.ObjectNotFound, $"The Vault CA file '{caFile}' does not exist.", caFile);
        }

        return Clients.GetOrAdd((caFile, verify), key => new HttpClient(Handler(key.CaFile, key.Verify)) { Timeout = TimeSpan.FromSeconds(30) });
    }

    private static SocketsHttpHandler Handler(string? caFile, bool verify)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (!verify)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        }
        else if (caFile is not null)
        {
            var roots = new X509Certificate2Collection();
            try
            {
                roots.ImportFromPemFile(caFile);
            }
            catch (System.Security.Cryptography.CryptographicException ex)
            {
                throw new EcomDrException(ErrorIds.KeyInvalid, FailureKind.InvalidData, $"The Vault CA file '{caFile}' holds no PEM certificate.", caFile, ex);
            }

            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(certificate as X509Certificate2 ?? new X509Certificate2(certificate));
            };
        }

        return handler;
    }
}
