using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Storage;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>What a cmdlet asks for when it opens a repository.</summary>
public sealed record RepositoryRequest(
    string StoreName = "primary",
    string? LocationOverride = null,
    string? KeyFileOverride = null,
    IReadOnlyList<string>? TrustedKeyFiles = null,
    IReadOnlyList<string>? BreakGlassPrivateKeys = null,
    bool ForWriting = false,
    Func<string, Credentials.Secret?>? AutomationVariable = null);

/// <summary>
/// Opens an environment's repository: the store, the key providers and the trusted signing keys.
/// Readers that lack the local key file still verify signatures from its public half
/// (&lt;key&gt;.pub.pem) or from keys they were given; writers need the key file itself.
/// </summary>
public sealed class OpenedRepository : IDisposable
{
    private readonly List<IDisposable> _owned = new();

    private OpenedRepository()
    {
    }

    public RepositoryContext Context { get; private set; } = null!;

    public EnvironmentConfig Environment { get; private set; } = null!;

    public static OpenedRepository Open(EcomDrConfig config, string? environmentName, RepositoryRequest request)
    {
        var environment = config.GetEnvironment(environmentName);
        var opened = new OpenedRepository { Environment = environment };
        try
        {
            opened.Context = opened.Build(config, environment, request);
            return opened;
        }
        catch
        {
            opened.Dispose();
            throw;
        }
    }

    /// <summary>Opens another store of the same environment with the same keys (Copy-DrBackup's destination).</summary>
    public IObjectStore OpenStore(string storeName) => Own(StoreFor(Environment, storeName, null, Context.Store.Name));

    public void Dispose()
    {
        foreach (var item in _owned)
        {
            item.Dispose();
        }
    }

    private RepositoryContext Build(EcomDrConfig config, EnvironmentConfig environment, RepositoryRequest request)
    {
        var store = Own(StoreFor(environment, request.StoreName, request.LocationOverride, null));
        var providers = new List<IKeyProvider>();
        var wrappers = new List<IKeyProvider>();
        var trust = new TrustedKeys();
        LocalKeyFile? signing = null;
        var localKeys = request.KeyFileOverride is { } keyOverride
            ? new[] { new KeyProviderConfig(KeyProviderType.LocalFile, keyOverride) }
            : environment.Keys.Where(k => k.Type == KeyProviderType.LocalFile).ToArray();
        foreach (var (path, wraps) in localKeys.Select(k => (k.Path, k.Wrap)))
        {
            if (request.ForWriting || File.Exists(path))
            {
                var key = Own(LocalKeyFile.Load(path));
                providers.Add(key);
                if (wraps)
                {
                    wrappers.Add(key);
                }

                trust.Add(key);
                signing ??= key;
            }
            else if (File.Exists(path + ".pub.pem"))
            {
                trust.AddPublicKeyFile(path + ".pub.pem");
            }
        }

        // Writers wrap every data key to the break-glass public keys too; readers do not need them.
        foreach (var key in environment.Keys.Where(k => k.Type == KeyProviderType.RsaPublicKey && request.ForWriting))
        {
            var breakGlass = Own(RsaBreakGlassKey.Load(key.Path));
            providers.Add(breakGlass);
            wrappers.Add(breakGlass);
        }

        // Key services come after the local keys: a reader opens with a local key when it can, without a request.
        foreach (var key in environment.Keys.Where(k => k.Transit is not null))
        {
            var provider = Own(VaultTransitKey.Create(key.Transit!, request.AutomationVariable));
            providers.Add(provider);
            wrappers.Add(provider);
        }

        foreach (var key in environment.Keys.Where(k => k.Kms is not null))
        {
            var provider = Own(AwsKmsKey.Create(key.Kms!));
            providers.Add(provider);
            wrappers.Add(provider);
        }

        foreach (var privateKey in request.BreakGlassPrivateKeys ?? Array.Empty<string>())
        {
            var key = Own(RsaBreakGlassKey.Load(privateKey));
            if (!key.CanUnwrap)
            {
                throw new EcomDrException(ErrorIds.KeyInvalid, FailureKind.InvalidArgument, $"{privateKey} is a public key; -BreakGlassKey needs the private key.", privateKey);
            }

            providers.Add(key);
        }

        foreach (var file in request.TrustedKeyFiles ?? Array.Empty<string>())
        {
            trust.AddPublicKeyFile(file);
        }

        if (trust.Count == 0)
        {
            throw new EcomDrException(ErrorIds.KeyNotFound, FailureKind.ObjectNotFound,
                $"No key to verify manifests with: none of {string.Join(", ", localKeys.Select(k => k.Path))} (or its .pub.pem) exists. " +
                "Create one with New-DrKey, or pass -TrustedKey <public key file>.", string.Join(", ", localKeys.Select(k => k.Path)));
        }

        return new RepositoryContext(store, environment.Name, providers, trust, signing, JobLogSigner: JobLogSignerOf(environment, request, signing),
            PublicLabels: environment.PublicLabels, Wrappers: wrappers);
    }

    private LocalKeyFile? JobLogSignerOf(EnvironmentConfig environment, RepositoryRequest request, LocalKeyFile? signing)
    {
        var own = environment.LocalKey.Path;
        if (request.KeyFileOverride is null || string.Equals(Path.GetFullPath(own), Path.GetFullPath(request.KeyFileOverride), StringComparison.Ordinal))
        {
            return signing;
        }

        return File.Exists(own) ? Own(LocalKeyFile.Load(own)) : null;
    }

    private static IObjectStore StoreFor(EnvironmentConfig environment, string storeName, string? locationOverride, string? notSameAs)
    {
        if (locationOverride is not null)
        {
            return StoreFactory.FromLocation(storeName, locationOverride);
        }

        if (!environment.Repositories.TryGetValue(storeName, out var repository))
        {
            throw new EcomDrException(ErrorIds.StoreNotConfigured, FailureKind.ObjectNotFound,
                $"Environment '{environment.Name}' has no repository '{storeName}' (it has: {string.Join(", ", environment.Repositories.Keys)}).", storeName);
        }

        if (string.Equals(storeName, notSameAs, StringComparison.OrdinalIgnoreCase))
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, $"Source and destination are the same repository '{storeName}'.", storeName);
        }

        return StoreFactory.Create(repository);
    }

    private T Own<T>(T item)
    {
        if (item is IDisposable disposable)
        {
            _owned.Add(disposable);
        }

        return item;
    }
}
