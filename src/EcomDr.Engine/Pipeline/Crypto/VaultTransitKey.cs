using System.Security.Cryptography;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Vault;

namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>
/// A Transit key of a Vault as a key provider (docs/format.md, "vaultTransit"): it makes each data key
/// with datakey/plaintext/&lt;key&gt; (or wraps one made elsewhere with encrypt/&lt;key&gt;), unwraps with decrypt/&lt;key&gt;, and a rotation re-wraps with rewrap/&lt;key&gt;, so
/// the data key never leaves Vault then. The wrapped form is Vault's own ciphertext, which names the key
/// version ("vault:v3:…"). It logs in on first use: a repository opened for listing alone never
/// calls Vault.
/// </summary>
public sealed class VaultTransitKey : IRotatingKeyProvider, IDataKeySource, IDisposable
{
    public const string ProviderName = "vaultTransit";
    private readonly Func<CancellationToken, Task<VaultConnection>> _connect;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private VaultConnection? _vault;
    private TransitKeyInfo? _info;

    public VaultTransitKey(string mount, string name, Uri server, Func<CancellationToken, Task<VaultConnection>> connect)
    {
        Mount = mount.Trim('/');
        Name = name;
        Server = server;
        _connect = connect;
    }

    /// <summary>The configured key, logging in as its Vault's auth section says on first use.</summary>
    public static VaultTransitKey Create(Config.TransitKeyConfig config, Func<string, Credentials.Secret?>? automationVariable) =>
        new(config.Mount, config.KeyName, config.Server.Address,
            async ct => (await VaultLogin.ConnectAsync(config.Server, automationVariable, ct).ConfigureAwait(false)).Vault);

    public string Provider => ProviderName;

    /// <summary>"&lt;mount&gt;/&lt;key name&gt;": the server is configuration, so a Vault moved to another address still opens its backups.</summary>
    public string KeyId => $"{Mount}/{Name}";

    public string Mount { get; }

    public string Name { get; }

    public Uri Server { get; }

    public bool CanUnwrap => true;

    /// <summary>The key as last read (after <see cref="RefreshAsync"/> or the first use).</summary>
    public TransitKeyInfo? Info => _info;

    public int CurrentVersion => _info?.LatestVersion ?? throw new InvalidOperationException("The Transit key was not read yet (RefreshAsync).");

    public int? VersionOf(WrappedKey wrapped) => wrapped.Provider == ProviderName && wrapped.KeyId == KeyId ? Transit.VersionOf(wrapped.Wrapped) : null;

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var vault = await VaultAsync(cancellationToken).ConfigureAwait(false);
        var info = await Transit.ReadKeyAsync(vault, Mount, Name, cancellationToken).ConfigureAwait(false);
        if (!info.SupportsEncryption)
        {
            throw new EcomDrException(ErrorIds.KeyInvalid, FailureKind.InvalidArgument,
                $"Transit key '{KeyId}' at {Server} is a {info.Type} key, which cannot encrypt; EcomDr needs a symmetric one such as aes256-gcm96.", KeyId);
        }

        _info = info;
    }

    /// <summary>Rotates the key in Vault (keys/&lt;key&gt;/rotate) and reads it again.</summary>
    public async Task RotateAsync(CancellationToken cancellationToken)
    {
        await Transit.RotateAsync(await VaultAsync(cancellationToken).ConfigureAwait(false), Mount, Name, cancellationToken).ConfigureAwait(false);
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<WrappedKey> WrapAsync(ReadOnlyMemory<byte> dataKey, CancellationToken cancellationToken)
    {
        var vault = await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var ciphertext = await Transit.EncryptAsync(vault, Mount, Name, dataKey, cancellationToken).ConfigureAwait(false);
        return new WrappedKey(ProviderName, KeyId, ciphertext);
    }

    /// <summary>datakey/plaintext/&lt;key&gt;: the data key from Vault's generator, wrapped in the same request.</summary>
    public async Task<(byte[] DataKey, WrappedKey Wrapped)> NewDataKeyAsync(CancellationToken cancellationToken)
    {
        var vault = await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var (plain, ciphertext) = await Transit.DataKeyAsync(vault, Mount, Name, cancellationToken).ConfigureAwait(false);
        return (plain, new WrappedKey(ProviderName, KeyId, ciphertext));
    }

    public async Task<byte[]> UnwrapAsync(WrappedKey wrapped, CancellationToken cancellationToken)
    {
        if (VersionOf(wrapped) is null)
        {
            throw new EcomDrException(ErrorIds.WrongKey, FailureKind.PermissionDenied,
                $"Transit key '{KeyId}' cannot unwrap a data key wrapped by {wrapped.Provider} key {wrapped.KeyId}.", wrapped.KeyId);
        }

        var vault = await VaultAsync(cancellationToken).ConfigureAwait(false);
        return await Transit.DecryptAsync(vault, Mount, Name, wrapped.Wrapped, cancellationToken).ConfigureAwait(false);
    }

    public async Task<WrappedKey> RewrapAsync(WrappedKey wrapped, CancellationToken cancellationToken)
    {
        var vault = await VaultAsync(cancellationToken).ConfigureAwait(false);
        return wrapped with { Wrapped = await Transit.RewrapAsync(vault, Mount, Name, wrapped.Wrapped, cancellationToken).ConfigureAwait(false) };
    }

    public void Dispose() => _gate.Dispose();

    private async Task<VaultConnection> ReadyAsync(CancellationToken ct)
    {
        var vault = await VaultAsync(ct).ConfigureAwait(false);
        if (_info is null)
        {
            await RefreshAsync(ct).ConfigureAwait(false);
        }

        return vault;
    }

    private async Task<VaultConnection> VaultAsync(CancellationToken ct)
    {
        if (_vault is { } ready)
        {
            return ready;
        }

        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return _vault ??= await _connect(ct).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }
}
