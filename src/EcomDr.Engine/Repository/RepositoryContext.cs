using EcomDr.Engine.Crypto;
using EcomDr.Engine.Storage;

namespace EcomDr.Engine.Repository;

/// <summary>
/// What a job needs to read or write one environment's backups in one store: the store, the key
/// providers (wrapping and unwrapping data keys), the signing key (writers only) and the trusted
/// public keys (readers).
/// </summary>
public sealed record RepositoryContext(
    IObjectStore Store,
    string Environment,
    IReadOnlyList<IKeyProvider> KeyProviders,
    TrustedKeys Trust,
    LocalKeyFile? SigningKey = null,
    ArtifactOptions? Artifacts = null)
{
    public ArtifactOptions ArtifactOptions => Artifacts ?? new ArtifactOptions();

    public RepositoryContext WithStore(IObjectStore store) => this with { Store = store };
}
