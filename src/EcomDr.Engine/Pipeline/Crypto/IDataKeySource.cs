namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>
/// A key service that makes data keys itself (Transit's datakey/plaintext, KMS GenerateDataKey): the
/// key comes from its generator with its own wrapped form in one request, and the other providers wrap it.
/// </summary>
public interface IDataKeySource : IKeyProvider
{
    /// <summary>A new 32-byte data key (the caller clears it) and its wrapped form.</summary>
    Task<(byte[] DataKey, WrappedKey Wrapped)> NewDataKeyAsync(CancellationToken cancellationToken);
}

/// <summary>A fresh data key wrapped by every provider: from the first that generates keys, else from this machine's RNG.</summary>
public static class DataKeys
{
    public const int Size = 32;

    public static async Task<(byte[] DataKey, List<WrappedKey> Wrapped)> NewAsync(IReadOnlyList<IKeyProvider> providers, CancellationToken ct)
    {
        var source = providers.OfType<IDataKeySource>().FirstOrDefault();
        byte[] key;
        WrappedKey? generated = null;
        if (source is null)
        {
            key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(Size);
        }
        else
        {
            (key, generated) = await source.NewDataKeyAsync(ct).ConfigureAwait(false);
            if (key.Length != Size)
            {
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(key);
                throw new Errors.EcomDrException(Errors.ErrorIds.KeyInvalid, Errors.FailureKind.InvalidData,
                    $"{source.Provider} key {source.KeyId} gave a data key of {key.Length} bytes, not {Size}.", source.KeyId);
            }
        }

        try
        {
            var wrapped = new List<WrappedKey>(providers.Count);
            foreach (var provider in providers)
            {
                wrapped.Add(ReferenceEquals(provider, source) ? generated! : await provider.WrapAsync(key, ct).ConfigureAwait(false));
            }

            return (key, wrapped);
        }
        catch
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(key);
            throw;
        }
    }
}
