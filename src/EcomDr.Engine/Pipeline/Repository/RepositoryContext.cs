using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Storage;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// What a job needs to read or write one environment's backups in one store: the store, the key
/// providers (wrapping and unwrapping data keys), the signing key (writers only) and the trusted
/// public keys (readers). JobLogSigner is always the environment's own key, whatever -KeyFile a run
/// uses: a job log line by any other key would fail every later Test-DrJobLog (null: not available,
/// and the run's steps are not logged, with a warning). ManifestVersion is the format new backups are
/// written in (2, sealed; 1 only to produce the legacy format); PublicLabels are the labels a sealed
/// manifest and S3 object tags show in clear. Wrappers, when given, are the providers that wrap new data
/// keys; KeyProviders, all of them, unwrap.
/// </summary>
public sealed record RepositoryContext(
    IObjectStore Store,
    string Environment,
    IReadOnlyList<IKeyProvider> KeyProviders,
    TrustedKeys Trust,
    LocalKeyFile? SigningKey = null,
    ArtifactOptions? Artifacts = null,
    LocalKeyFile? JobLogSigner = null,
    int ManifestVersion = BackupManifest.CurrentSchemaVersion,
    IReadOnlyCollection<string>? PublicLabels = null,
    TimeProvider? Clock = null,
    IReadOnlyList<IKeyProvider>? Wrappers = null)
{
    /// <summary>The providers new data keys are wrapped by: all of them unless some only unwrap (a local key with wrap: false).</summary>
    public IReadOnlyList<IKeyProvider> WrappingProviders => Wrappers ?? KeyProviders;

    public ArtifactOptions ArtifactOptions => Artifacts ?? new ArtifactOptions();

    /// <summary>The time backups are stamped with; tests move it (20 simulated days of retention).</summary>
    public DateTimeOffset Now => (Clock ?? TimeProvider.System).GetUtcNow();

    public RepositoryContext WithStore(IObjectStore store) => this with { Store = store };
}
