namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>
/// A key provider whose key has versions (the local key file, a Transit key, a KMS key): the newest
/// wraps, older ones still unwrap, and Update-DrKey moves what older versions wrapped to the newest.
/// </summary>
public interface IRotatingKeyProvider : IKeyProvider
{
    /// <summary>Reads the key's current state where it lives (a remote key service); before <see cref="CurrentVersion"/> is used.</summary>
    Task RefreshAsync(CancellationToken cancellationToken);

    /// <summary>The version new data keys are wrapped under.</summary>
    int CurrentVersion { get; }

    /// <summary>The version that wrapped <paramref name="wrapped"/>; null when this provider did not.</summary>
    int? VersionOf(WrappedKey wrapped);

    /// <summary>The same data key wrapped under the current version (Transit does it without the plaintext leaving Vault).</summary>
    Task<WrappedKey> RewrapAsync(WrappedKey wrapped, CancellationToken cancellationToken);
}
