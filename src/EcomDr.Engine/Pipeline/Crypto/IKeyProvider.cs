namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>
/// Wraps and unwraps per-artifact data keys. Asynchronous so that remote providers (Vault Transit,
/// AWS KMS) fit the same interface; the stored form is always a <see cref="WrappedKey"/>.
/// </summary>
public interface IKeyProvider
{
    string Provider { get; }

    string KeyId { get; }

    /// <summary>False for a provider that holds only public material (break-glass wrap-only).</summary>
    bool CanUnwrap { get; }

    /// <summary>True when this provider can unwrap <paramref name="wrapped"/> (a keyring opens what any of its versions wrapped).</summary>
    bool Opens(WrappedKey wrapped) => CanUnwrap && wrapped.Provider == Provider && wrapped.KeyId == KeyId;

    Task<WrappedKey> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken);

    /// <summary>The data key; <see cref="Errors.ErrorIds.WrongKey"/> when this key did not wrap it.</summary>
    Task<byte[]> UnwrapAsync(WrappedKey wrapped, CancellationToken cancellationToken);
}
