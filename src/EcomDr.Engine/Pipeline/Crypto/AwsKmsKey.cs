using System.Net;
using System.Security.Cryptography;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime;
using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>
/// An AWS KMS key as a key provider (docs/format.md, "awsKms"): data keys come from GenerateDataKey (or
/// are wrapped with Encrypt), open with Decrypt, and move to another KMS key with ReEncrypt, inside KMS.
/// Every request carries the encryption context {"ecomdr": "data-key/v1"}, so a KMS ciphertext made for
/// something else does not open here. KMS rotates its key material itself, under the same key id, and
/// old ciphertexts keep opening; what Update-DrKey re-wraps is what another KMS key wrapped (the
/// configured key was changed): that counts as an older version.
/// </summary>
public sealed class AwsKmsKey : IRotatingKeyProvider, IDataKeySource, IDisposable
{
    public const string ProviderName = "awsKms";
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["ecomdr"] = "data-key/v1" };
    private readonly Lazy<IAmazonKeyManagementService> _client;

    /// <summary>The client is made on first use: a reader that opens with a local key needs no AWS credentials.</summary>
    public AwsKmsKey(string keyId, Func<IAmazonKeyManagementService> client)
    {
        KeyId = keyId;
        _client = new Lazy<IAmazonKeyManagementService>(client, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    private IAmazonKeyManagementService Kms => _client.Value;

    public string Provider => ProviderName;

    /// <summary>The key as configured: an id, an ARN or an alias.</summary>
    public string KeyId { get; }

    public bool CanUnwrap => true;

    /// <summary>1: what the configured key wrapped; 0: what another KMS key wrapped.</summary>
    public int CurrentVersion => 1;

    public static AwsKmsKey Create(KmsKeyConfig config)
    {
        var settings = new AmazonKeyManagementServiceConfig { MaxErrorRetry = 4, RetryMode = RequestRetryMode.Standard, Timeout = TimeSpan.FromSeconds(30) };
        if (config.Endpoint is not null)
        {
            settings.ServiceURL = config.Endpoint;
            settings.AuthenticationRegion = config.Region ?? "us-east-1";
        }
        else if (config.Region is not null)
        {
            settings.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(config.Region);
        }

        return new AwsKmsKey(config.KeyId, () => Credentials(config) is { } credentials
            ? new AmazonKeyManagementServiceClient(credentials, settings)
            : new AmazonKeyManagementServiceClient(settings));
    }

    /// <summary>Any KMS ciphertext: KMS finds the key in it, and says whether the caller may use it.</summary>
    public bool Opens(WrappedKey wrapped) => wrapped.Provider == ProviderName;

    public int? VersionOf(WrappedKey wrapped) => wrapped.Provider != ProviderName ? null : wrapped.KeyId == KeyId ? 1 : 0;

    public Task RefreshAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<(byte[] DataKey, WrappedKey Wrapped)> NewDataKeyAsync(CancellationToken cancellationToken)
    {
        var answer = await CallAsync(() => Kms.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = KeyId, KeySpec = DataKeySpec.AES_256, EncryptionContext = Context },
            cancellationToken), KeyId).ConfigureAwait(false);
        using (answer.Plaintext)
        {
            var plain = answer.Plaintext.ToArray();
            ClearStream(answer.Plaintext);
            return (plain, new WrappedKey(ProviderName, KeyId, Convert.ToBase64String(answer.CiphertextBlob.ToArray())));
        }
    }

    public async Task<WrappedKey> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken)
    {
        using var plain = new MemoryStream(dataKey.ToArray());
        try
        {
            var answer = await CallAsync(() => Kms.EncryptAsync(new EncryptRequest { KeyId = KeyId, Plaintext = plain, EncryptionContext = Context }, cancellationToken), KeyId)
                .ConfigureAwait(false);
            return new WrappedKey(ProviderName, KeyId, Convert.ToBase64String(answer.CiphertextBlob.ToArray()));
        }
        finally
        {
            ClearStream(plain);
        }
    }

    public async Task<byte[]> UnwrapAsync(WrappedKey wrapped, CancellationToken cancellationToken)
    {
        if (!Opens(wrapped))
        {
            throw new EcomDrException(ErrorIds.WrongKey, FailureKind.PermissionDenied, $"KMS key {KeyId} cannot unwrap a data key wrapped by {wrapped.Provider}.", wrapped.KeyId);
        }

        using var blob = new MemoryStream(Convert.FromBase64String(wrapped.Wrapped));
        var answer = await CallAsync(() => Kms.DecryptAsync(new DecryptRequest { CiphertextBlob = blob, KeyId = wrapped.KeyId, EncryptionContext = Context }, cancellationToken),
            wrapped.KeyId).ConfigureAwait(false);
        using (answer.Plaintext)
        {
            var plain = answer.Plaintext.ToArray();
            ClearStream(answer.Plaintext);
            return plain;
        }
    }

    /// <summary>ReEncrypt: what another KMS key wrapped, under the configured one; the data key stays inside KMS.</summary>
    public async Task<WrappedKey> RewrapAsync(WrappedKey wrapped, CancellationToken cancellationToken)
    {
        using var blob = new MemoryStream(Convert.FromBase64String(wrapped.Wrapped));
        var answer = await CallAsync(() => Kms.ReEncryptAsync(new ReEncryptRequest
        {
            CiphertextBlob = blob, SourceKeyId = wrapped.KeyId, DestinationKeyId = KeyId, SourceEncryptionContext = Context, DestinationEncryptionContext = Context,
        }, cancellationToken), wrapped.KeyId).ConfigureAwait(false);
        return new WrappedKey(ProviderName, KeyId, Convert.ToBase64String(answer.CiphertextBlob.ToArray()));
    }

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
    }

    private static AWSCredentials? Credentials(KmsKeyConfig config)
    {
        if (config.AccessKeyEnvironmentVariable is not { } accessVariable)
        {
            return null; // the SDK's default chain: environment, web identity, instance role
        }

        var access = Environment.GetEnvironmentVariable(accessVariable);
        var secret = Environment.GetEnvironmentVariable(config.SecretKeyEnvironmentVariable!);
        if (string.IsNullOrEmpty(access) || string.IsNullOrEmpty(secret))
        {
            throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.ObjectNotFound,
                $"KMS key {config.KeyId}: environment variables {accessVariable} and {config.SecretKeyEnvironmentVariable} must both be set.", config.KeyId);
        }

        return new BasicAWSCredentials(access, secret);
    }

    // The SDK's own errors name the key and what KMS said; never a plaintext (none is in a request's error).
    private static async Task<T> CallAsync<T>(Func<Task<T>> call, string keyId)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (InvalidCiphertextException ex)
        {
            throw new EcomDrException(ErrorIds.WrongKey, FailureKind.PermissionDenied, $"KMS key {keyId} cannot open this data key: {ex.Message}", keyId, ex);
        }
        catch (IncorrectKeyException ex)
        {
            throw new EcomDrException(ErrorIds.WrongKey, FailureKind.PermissionDenied, $"KMS key {keyId} did not wrap this data key: {ex.Message}", keyId, ex);
        }
        catch (NotFoundException ex)
        {
            throw new EcomDrException(ErrorIds.KeyNotFound, FailureKind.ObjectNotFound, $"KMS has no key {keyId}: {ex.Message}", keyId, ex);
        }
        catch (AmazonKeyManagementServiceException ex) when (ex.StatusCode is HttpStatusCode.Forbidden || ex.ErrorCode is "AccessDeniedException" or "DisabledException" or "KMSInvalidStateException")
        {
            throw new EcomDrException(ErrorIds.PermissionDenied, FailureKind.PermissionDenied, $"KMS refused key {keyId}: {ex.ErrorCode}: {ex.Message}", keyId, ex);
        }
        catch (AmazonServiceException ex)
        {
            throw new EcomDrException(ErrorIds.SecretSourceUnavailable, FailureKind.ResourceUnavailable, $"KMS ({keyId}) failed: {ex.ErrorCode ?? ex.StatusCode.ToString()}: {ex.Message}", keyId, ex);
        }
        catch (AmazonClientException ex)
        {
            throw new EcomDrException(ErrorIds.SecretSourceUnavailable, FailureKind.ResourceUnavailable, $"KMS ({keyId}) is unreachable: {ex.Message}", keyId, ex);
        }
    }

    private static void ClearStream(MemoryStream stream)
    {
        if (stream.TryGetBuffer(out var buffer))
        {
            CryptographicOperations.ZeroMemory(buffer.AsSpan());
        }
    }
}
