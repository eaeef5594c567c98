using System.Collections.Concurrent;
using System.Text.Json;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Operations.Retention;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Pipeline.Storage;

namespace EcomDr.Engine.Operations.Keys;

/// <summary>
/// Moves every backup of one store to the current version of each rotating key provider: the data keys
/// of its artifacts are re-wrapped (the artifacts are not touched), the manifest is sealed again and
/// signed by the current signing key, then written over the old one in one put. A backup already
/// current is left alone, so a run is idempotent and resumes where an interrupted one stopped; a
/// manifest is only replaced by one that verifies and opens. Runs under the retention lock, so no
/// backup is removed while its manifest is being rewritten.
/// </summary>
public static class KeyRewrap
{
    private const int Parallelism = 4;

    /// <summary>
    /// Re-wraps the store (or, <paramref name="checkOnly"/>, counts what it would). <paramref name="asIfRotated"/>
    /// counts as if the local key had one more version (what -NewVersion -WhatIf would re-wrap).
    /// </summary>
    public static async Task<KeyRewrapResult> RunAsync(RepositoryContext context, bool checkOnly, Action<string>? progress, CancellationToken ct,
        bool asIfRotated = false)
    {
        var rotating = context.WrappingProviders.OfType<IRotatingKeyProvider>().ToArray();
        foreach (var provider in rotating)
        {
            await provider.RefreshAsync(ct).ConfigureAwait(false);
        }

        var signer = context.SigningKey;
        if (!checkOnly && signer is null)
        {
            throw new EcomDrException(ErrorIds.KeyNotFound, FailureKind.ObjectNotFound, "Re-wrapping needs the local key file: it signs the rewritten manifests.", context.Environment);
        }

        await using var held = checkOnly
            ? null
            : await RepositoryLock.AcquireAsync(context.Store, context.Environment, RetentionRun.LockName, "key rotation", TimeSpan.FromMinutes(2), ct).ConfigureAwait(false);
        var manifests = new List<string>();
        await foreach (var obj in context.Store.ListAsync($"{context.Environment}/", ct).ConfigureAwait(false))
        {
            if (RepositoryLayout.Parse(obj.Key) is { Remainder: RepositoryLayout.ManifestName } parsed && parsed.Environment == context.Environment)
            {
                manifests.Add(obj.Key);
            }
        }

        // In id order (oldest first): progress means something, and an interrupted run stops at a point.
        manifests.Sort(StringComparer.Ordinal);
        var tally = new Tally();
        await Parallel.ForEachAsync(manifests, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct }, async (key, token) =>
        {
            if (held is { Lost: true })
            {
                throw new EcomDrException(ErrorIds.RepositoryLocked, FailureKind.ResourceBusy, "Key rotation lost the repository lock to another writer; run it again.", key);
            }

            await RewrapOneAsync(context, rotating, signer, key, checkOnly || asIfRotated, asIfRotated, tally, token).ConfigureAwait(false);
            var done = tally.Done();
            if (done % 50 == 0 || done == manifests.Count)
            {
                progress?.Invoke($"{done} of {manifests.Count} manifests in {context.Store.Name}");
            }
        }).ConfigureAwait(false);

        string? indexProblem = null;
        if (tally.Rewrapped > 0)
        {
            indexProblem = await RewriteIndexAsync(context, ct).ConfigureAwait(false);
        }

        var usage = tally.Usage(context.Store.Name);
        return new KeyRewrapResult(context.Environment, context.Store.Name, checkOnly, manifests.Count, tally.Rewrapped, tally.Current, tally.Pending,
            tally.Unreadable.OrderBy(u => u.Key, StringComparer.Ordinal).Select(u => $"{u.Key}: {u.Value}").ToList(),
            usage, indexProblem, PolicyNotes(rotating, usage));
    }

    private static async Task RewrapOneAsync(RepositoryContext context, IRotatingKeyProvider[] rotating, LocalKeyFile? signer, string key, bool checkOnly,
        bool asIfRotated, Tally tally, CancellationToken ct)
    {
        var where = $"{context.Store.Location}{key}";
        BackupManifest manifest;
        ManifestKeys stored;
        try
        {
            var envelope = await context.Store.ReadAllAsync(key, ct).ConfigureAwait(false);
            manifest = await ManifestCodec.DecodeAsync(envelope, context.Trust, context.KeyProviders, where, ct).ConfigureAwait(false);
            stored = ManifestKeys.Of(envelope);
        }
        catch (EcomDrException ex) when (ex.Kind is FailureKind.InvalidData or FailureKind.ObjectNotFound or FailureKind.PermissionDenied)
        {
            tally.Unreadable[key] = ex.Message;
            return;
        }

        if (manifest.Sealed)
        {
            tally.Unreadable[key] = "no key at hand opens its sealed part";
            return;
        }

        var wrapped = manifest.Artifacts.SelectMany(a => a.Encryption.Keys).Concat(stored.Sealed).ToList();
        var stale = wrapped.Any(w => rotating.Any(p => p.VersionOf(w) is { } v && (v < p.CurrentVersion || (asIfRotated && p is LocalKeyFile))))
            || (signer is not null && stored.SignatureKeyId != signer.SigningKeyId);
        if (!stale)
        {
            tally.Count(wrapped, rotating, rewrapped: false, pending: false);
            return;
        }

        if (checkOnly)
        {
            tally.Count(wrapped, rotating, rewrapped: false, pending: true);
            return;
        }

        foreach (var artifact in manifest.Artifacts)
        {
            var keys = artifact.Encryption.Keys;
            for (var i = 0; i < keys.Count; i++)
            {
                if (rotating.FirstOrDefault(p => p.VersionOf(keys[i]) is { } v && v < p.CurrentVersion) is { } provider)
                {
                    keys[i] = await RewrapAsync(provider, keys[i], keys, context.KeyProviders, ct).ConfigureAwait(false);
                }
            }
        }

        var encoded = await ManifestCodec.EncodeAsync(manifest, signer!, manifest.SchemaVersion, context.WrappingProviders, context.PublicLabels, ct).ConfigureAwait(false);
        // Only a manifest that verifies and opens replaces one that does.
        var check = await ManifestCodec.DecodeAsync(encoded, context.Trust, context.KeyProviders, where, ct).ConfigureAwait(false);
        if (check.Sealed)
        {
            throw new EcomDrException(ErrorIds.ManifestInvalid, FailureKind.InvalidData, $"Manifest {where} did not open after re-wrapping; it was left as it was.", where);
        }

        // A backup removed meanwhile (Remove-DrBackup takes no lock) must not get its manifest back.
        if (await context.Store.StatAsync(key, ct).ConfigureAwait(false) is null)
        {
            tally.Unreadable[key] = "removed while it was being re-wrapped";
            return;
        }

        await context.Store.PutAsync(key, encoded, ct).ConfigureAwait(false);
        tally.Count(manifest.Artifacts.SelectMany(a => a.Encryption.Keys).Concat(ManifestKeys.Of(encoded).Sealed), rotating, rewrapped: true, pending: false);
    }

    /// <summary>
    /// Re-wraps by the provider itself; when it refuses (Transit's min_decryption_version was raised past
    /// the version), the same data key is unwrapped by another provider that holds it and wrapped afresh.
    /// </summary>
    private static async Task<WrappedKey> RewrapAsync(IRotatingKeyProvider provider, WrappedKey stale, IReadOnlyList<WrappedKey> siblings,
        IReadOnlyList<IKeyProvider> all, CancellationToken ct)
    {
        try
        {
            return await provider.RewrapAsync(stale, ct).ConfigureAwait(false);
        }
        catch (EcomDrException ex) when (ex.ErrorId == ErrorIds.WrongKey)
        {
            foreach (var sibling in siblings.Where(s => s != stale))
            {
                if (all.FirstOrDefault(p => p.Opens(sibling)) is { } other)
                {
                    var dataKey = await other.UnwrapAsync(sibling, ct).ConfigureAwait(false);
                    try
                    {
                        return await provider.WrapAsync(dataKey, ct).ConfigureAwait(false);
                    }
                    finally
                    {
                        System.Security.Cryptography.CryptographicOperations.ZeroMemory(dataKey);
                    }
                }
            }

            throw;
        }
    }

    /// <summary>What the key services' own policy says about the versions still in use (Transit's min_decryption_version).</summary>
    private static IReadOnlyList<KeyNote> PolicyNotes(IRotatingKeyProvider[] rotating, IReadOnlyList<KeyVersionUsage> usage)
    {
        var notes = new List<KeyNote>();
        foreach (var transit in rotating.OfType<VaultTransitKey>())
        {
            var used = usage.Where(u => u.Provider == transit.Provider && u.KeyId == transit.KeyId).ToList();
            if (transit.Info is not { } info || used.Count == 0)
            {
                continue;
            }

            var oldest = used.Min(u => u.Version);
            var locked = used.Where(u => u.Version < info.MinDecryptionVersion).Sum(u => u.Backups);
            notes.Add(locked > 0
                ? new KeyNote(true, $"Transit key '{transit.KeyId}' has min_decryption_version {info.MinDecryptionVersion}, but {locked} backup(s) carry data keys under older versions: " +
                  $"Transit cannot open them (another key must). Lower it to {oldest}, or re-wrap first (Update-DrKey).")
                : new KeyNote(false, $"Transit key '{transit.KeyId}': the oldest version in use is {oldest}; min_decryption_version may be raised to {oldest} and not above until a re-wrap."));
        }

        return notes;
    }

    private static async Task<string?> RewriteIndexAsync(RepositoryContext context, CancellationToken ct)
    {
        try
        {
            var backups = await BackupCatalog.ListAsync(context, null, ct, CatalogDetail.Summary).ConfigureAwait(false);
            return await CatalogIndex.WriteAsync(context, backups, ct).ConfigureAwait(false) ? null : "the catalog index was not rewritten: no signing key is open";
        }
        catch (EcomDrException ex)
        {
            return $"the catalog index was not rewritten: {ex.Message}";
        }
    }

    /// <summary>What the clear part of an envelope says about keys: the signer and the manifest key's wraps.</summary>
    private sealed record ManifestKeys(string? SignatureKeyId, IReadOnlyList<WrappedKey> Sealed)
    {
        public static ManifestKeys Of(ReadOnlyMemory<byte> envelope)
        {
            using var document = JsonDocument.Parse(envelope);
            var root = document.RootElement;
            var signer = root.TryGetProperty("signature", out var s) && s.TryGetProperty("keyId", out var id) ? id.GetString() : null;
            var keys = root.TryGetProperty("manifest", out var m) && m.TryGetProperty("sealed", out var sealedPart)
                ? sealedPart.GetProperty("keys").Deserialize<List<WrappedKey>>(ManifestCodec.Options) ?? new List<WrappedKey>()
                : new List<WrappedKey>();
            return new ManifestKeys(signer, keys);
        }
    }

    private sealed class Tally
    {
        private readonly ConcurrentDictionary<(string Provider, string KeyId, int Version, bool Current), int> _usage = new();
        private int _done;
        private int _rewrapped;
        private int _current;
        private int _pending;

        public ConcurrentDictionary<string, string> Unreadable { get; } = new(StringComparer.Ordinal);

        public int Rewrapped => _rewrapped;

        public int Current => _current;

        public int Pending => _pending;

        public int Done() => Interlocked.Increment(ref _done);

        /// <summary>Counts a backup once per key version it carries.</summary>
        public void Count(IEnumerable<WrappedKey> wrapped, IRotatingKeyProvider[] rotating, bool rewrapped, bool pending)
        {
            var versions = wrapped.SelectMany(w => rotating.Select(p => (p, Version: p.VersionOf(w))).Where(x => x.Version is not null)
                .Select(x => (x.p.Provider, w.KeyId, x.Version!.Value, x.Version == x.p.CurrentVersion))).Distinct();
            foreach (var version in versions)
            {
                _usage.AddOrUpdate(version, 1, (_, n) => n + 1);
            }

            Interlocked.Increment(ref rewrapped ? ref _rewrapped : ref pending ? ref _pending : ref _current);
        }

        public IReadOnlyList<KeyVersionUsage> Usage(string store) =>
            _usage.Select(u => new KeyVersionUsage(store, u.Key.Provider, u.Key.KeyId, u.Key.Version, u.Key.Current, u.Value))
                .OrderBy(u => u.Provider, StringComparer.Ordinal).ThenBy(u => u.Version).ToList();
    }
}

/// <summary>How many backups of a store carry one version of one key (a backup counts once per version it carries).</summary>
public sealed record KeyVersionUsage(string Store, string Provider, string KeyId, int Version, bool Current, int Backups)
{
    /// <summary>"localFile v2 (current): 100", "vaultTransit transit/ecomdr v3: 4", "awsKms alias/backups (current): 7" (KMS keys have no visible version).</summary>
    public override string ToString() => Provider switch
    {
        LocalKeyFile.ProviderName => $"{Provider} v{Version}",
        AwsKmsKey.ProviderName => $"{Provider} {KeyId}",
        _ => $"{Provider} {KeyId} v{Version}",
    } + $"{(Current ? " (current)" : "")}: {Backups}";
}

/// <summary>
/// What a key rotation run did to one store: manifests examined, re-wrapped, already current, still
/// pending (a check), those it could not read (and why), the backups per key version afterwards, and
/// what a key service's policy means for them (Notes).
/// </summary>
public sealed record KeyRewrapResult(
    string Environment,
    string Store,
    bool CheckOnly,
    int Manifests,
    int Rewrapped,
    int AlreadyCurrent,
    int Pending,
    IReadOnlyList<string> Unreadable,
    IReadOnlyList<KeyVersionUsage> Usage,
    string? IndexProblem,
    IReadOnlyList<KeyNote> Notes)
{
    /// <summary>The usage in one line: "localFile v1: 50, localFile v2 (current): 50".</summary>
    public string Versions => string.Join(", ", Usage);
}

/// <summary>What a key service's policy means for the versions in use; Problem when some backups cannot be opened by that service.</summary>
public sealed record KeyNote(bool Problem, string Message)
{
    public override string ToString() => Message;
}
