using System.Security.Cryptography;
using EcomDr.Engine.Config;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Sources.MySql.Prerequisites;

namespace EcomDr.Engine.Operations.Keys;

/// <summary>
/// What Test-DrPrerequisite checks of an environment's keys: each local key file opens (owner-only), and
/// its current version is younger than rotateDays; each break-glass key is a usable public key; each key
/// service makes a data key and opens it again (the permissions a backup and a restore need), with its
/// version policy. Every problem is a result with what fixes it, never an exception.
/// </summary>
public static class KeyPrerequisites
{
    public static async Task<IReadOnlyList<PrerequisiteResult>> RunAsync(EnvironmentConfig environment, Func<string, Secret?>? automationVariable, DateTimeOffset now,
        CancellationToken ct)
    {
        var results = new List<PrerequisiteResult>();
        foreach (var key in environment.Keys)
        {
            results.Add(key.Type switch
            {
                KeyProviderType.LocalFile => Local(key, now),
                KeyProviderType.RsaPublicKey => BreakGlass(key),
                KeyProviderType.VaultTransit => await TransitAsync(key, automationVariable, now, ct).ConfigureAwait(false),
                _ => await KmsAsync(key, ct).ConfigureAwait(false),
            });
        }

        return results;
    }

    private static PrerequisiteResult Local(KeyProviderConfig key, DateTimeOffset now)
    {
        const string Check = "Key localFile";
        try
        {
            using var file = LocalKeyFile.Load(key.Path);
            var age = now - file.Created;
            var observed = $"version {file.CurrentVersion} ({file.KeyId}), {(int)age.TotalDays} day(s) old{(key.Wrap ? "" : ", signs only")}";
            return age > TimeSpan.FromDays(key.RotateDays)
                ? new PrerequisiteResult(key.Path, Check, CheckStatus.Warn, observed, $"younger than {key.RotateDays} day(s) (rotateDays)",
                    "Rotate it: Update-DrKey -NewVersion (docs/runbooks.md, \"Key rotation\").")
                : new PrerequisiteResult(key.Path, Check, CheckStatus.Pass, observed, $"younger than {key.RotateDays} day(s) (rotateDays)", "");
        }
        catch (EcomDrException ex)
        {
            return new PrerequisiteResult(key.Path, Check, CheckStatus.Fail, $"{ex.ErrorId}: {ex.Message}", "an owner-only EcomDr key file",
                ex.ErrorId == ErrorIds.KeyNotFound ? "Create it with New-DrKey, or restore it from its safe place." : "Replace it from its safe place; keep it 0600.");
        }
    }

    private static PrerequisiteResult BreakGlass(KeyProviderConfig key)
    {
        try
        {
            using var rsa = RsaBreakGlassKey.Load(key.Path);
            return new PrerequisiteResult(key.Path, "Key rsaPublicKey", CheckStatus.Pass, rsa.KeyId, "an RSA-4096 public key", "");
        }
        catch (EcomDrException ex)
        {
            return new PrerequisiteResult(key.Path, "Key rsaPublicKey", CheckStatus.Fail, $"{ex.ErrorId}: {ex.Message}", "an RSA-4096 public key",
                "Put the public half written by New-DrKey -BreakGlass there.");
        }
    }

    private static async Task<PrerequisiteResult> TransitAsync(KeyProviderConfig key, Func<string, Secret?>? automationVariable, DateTimeOffset now, CancellationToken ct)
    {
        var transit = key.Transit!;
        using var provider = VaultTransitKey.Create(transit, automationVariable);
        var check = $"Key vaultTransit {provider.KeyId}";
        var where = transit.Server.Address.ToString();
        const string Expected = "datakey/plaintext, encrypt and decrypt allowed";
        try
        {
            await ProbeAsync(provider, ct).ConfigureAwait(false);
            var info = provider.Info!;
            var created = info.Versions.TryGetValue(info.LatestVersion, out var at) ? at : now;
            var observed = $"latest version {info.LatestVersion}, min_decryption_version {info.MinDecryptionVersion}, {(int)(now - created).TotalDays} day(s) old; a data key made and opened";
            return now - created > TimeSpan.FromDays(key.RotateDays)
                ? new PrerequisiteResult(where, check, CheckStatus.Warn, observed, Expected + $", younger than {key.RotateDays} day(s)",
                    $"Rotate it: Update-DrKey -RotateKeyService, or set auto_rotate_period on {transit.Mount}/keys/{transit.KeyName}.")
                : new PrerequisiteResult(where, check, CheckStatus.Pass, observed, Expected, "");
        }
        catch (EcomDrException ex)
        {
            return new PrerequisiteResult(where, check, CheckStatus.Fail, $"{ex.ErrorId}: {ex.Message}", Expected,
                $"Grant the token: path \"{transit.Mount}/keys/{transit.KeyName}\" {{ capabilities = [\"read\"] }} and " +
                $"path \"{transit.Mount}/+/{transit.KeyName}\" {{ capabilities = [\"update\"] }}, path \"{transit.Mount}/datakey/plaintext/{transit.KeyName}\" {{ capabilities = [\"update\"] }}.");
        }
    }

    private static async Task<PrerequisiteResult> KmsAsync(KeyProviderConfig key, CancellationToken ct)
    {
        var kms = key.Kms!;
        const string Expected = "GenerateDataKey and Decrypt allowed with the context {\"ecomdr\": \"data-key/v1\"}";
        try
        {
            using var provider = AwsKmsKey.Create(kms);
            await ProbeAsync(provider, ct).ConfigureAwait(false);
            return new PrerequisiteResult(kms.Endpoint ?? kms.Region ?? "AWS", $"Key awsKms {kms.KeyId}", CheckStatus.Pass, "a data key made and opened", Expected, "");
        }
        catch (EcomDrException ex)
        {
            return new PrerequisiteResult(kms.Endpoint ?? kms.Region ?? "AWS", $"Key awsKms {kms.KeyId}", CheckStatus.Fail, $"{ex.ErrorId}: {ex.Message}", Expected,
                "Allow kms:GenerateDataKey, kms:Encrypt, kms:Decrypt and kms:ReEncrypt* on the key for these credentials (docs/configuration.md, \"Keys\").");
        }
    }

    // What a backup and a restore do: a data key made by the service, opened by it again.
    private static async Task ProbeAsync(IDataKeySource provider, CancellationToken ct)
    {
        if (provider is IRotatingKeyProvider rotating)
        {
            await rotating.RefreshAsync(ct).ConfigureAwait(false);
        }

        var (made, wrapped) = await provider.NewDataKeyAsync(ct).ConfigureAwait(false);
        var opened = await provider.UnwrapAsync(wrapped, ct).ConfigureAwait(false);
        try
        {
            if (!CryptographicOperations.FixedTimeEquals(made, opened))
            {
                throw new EcomDrException(ErrorIds.KeyInvalid, FailureKind.InvalidData, $"{provider.Provider} key {provider.KeyId} opened a data key to other bytes than it made.", provider.KeyId);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(made);
            CryptographicOperations.ZeroMemory(opened);
        }
    }
}
