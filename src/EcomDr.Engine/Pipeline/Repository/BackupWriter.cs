using System.Reflection;
using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// Writes one backup: takes the repository lock, streams artifacts through the pipeline (in parallel
/// if the caller wishes), then writes the signed manifest last. Until <see cref="CompleteAsync"/>
/// succeeds the backup is incomplete; disposing without completing leaves it so.
/// </summary>
public sealed class BackupWriter : IAsyncDisposable
{
    private readonly RepositoryContext _context;
    private readonly RepositoryLock _lock;
    private readonly BackupManifest _manifest;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly bool _ownsLock;
    private int _objects;

    private BackupWriter(RepositoryContext context, RepositoryLock repositoryLock, BackupManifest manifest, bool ownsLock = true)
    {
        _context = context;
        _lock = repositoryLock;
        _manifest = manifest;
        _ownsLock = ownsLock;
    }

    public string Id => _manifest.Id;

    private bool Sealing => _context.ManifestVersion == BackupManifest.SealedSchemaVersion;

    public string Kind => _manifest.Kind;

    /// <summary>Source facts recorded in the manifest (binlogFile, binlogPosition, gtidSet, server...).</summary>
    public JsonObject Source => _manifest.Source;

    public JsonObject Stats => _manifest.Stats;

    /// <summary>The manifest's labels: those given at the start, and any the job learns on the way (a snapshot's server version).</summary>
    public IDictionary<string, string> Labels => _manifest.Labels;

    public LockRecord? TookOverStaleLock => _lock.TookOverFrom;

    public static async Task<BackupWriter> BeginAsync(RepositoryContext context, string kind, IReadOnlyDictionary<string, string>? labels,
        CancellationToken cancellationToken, TimeSpan? lockLease = null)
    {
        var manifest = NewManifest(context, kind, labels);
        var holder = $"{kind} backup {manifest.Id}";
        var repositoryLock = await RepositoryLock.AcquireAsync(context.Store, context.Environment, kind, holder,
            lockLease ?? TimeSpan.FromMinutes(2), cancellationToken).ConfigureAwait(false);
        return new BackupWriter(context, repositoryLock, manifest);
    }

    /// <summary>
    /// A backup under a lock the caller already holds for the kind and keeps after this backup (a
    /// binlog shipper writes one backup per segment under one lock for its whole run).
    /// </summary>
    public static BackupWriter BeginUnder(RepositoryContext context, RepositoryLock heldLock, string kind, IReadOnlyDictionary<string, string>? labels)
    {
        var manifest = NewManifest(context, kind, labels);
        return new BackupWriter(context, heldLock, manifest, ownsLock: false);
    }

    /// <summary>Streams one artifact into the backup. Safe to call concurrently for different names.</summary>
    public async Task<ArtifactEntry> AddArtifactAsync(string name, Func<Stream, CancellationToken, Task> produce, CancellationToken cancellationToken)
    {
        RepositoryLayout.ValidateArtifactName(name);
        lock (_names)
        {
            if (!_names.Add(name))
            {
                throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, $"Artifact '{name}' was already added to {Id}.", name);
            }
        }

        // Format 2 names objects by number: the artifact name (schema, table) is in the sealed manifest only.
        var path = Sealing ? $"{Interlocked.Increment(ref _objects):D6}.edr" : name + ".zst.edr";
        var key = RepositoryLayout.BackupPrefix(_manifest.Environment, _manifest.Kind, _manifest.Id) + path;
        var tags = Sealing ? new SortedDictionary<string, string>(SealedManifest.PublicOnly(_manifest.Labels, _context.PublicLabels).ToDictionary(), StringComparer.Ordinal) : _manifest.Labels;
        var entry = await ArtifactWriter.WriteAsync(_context.Store, key, name, produce, _context.WrappingProviders, _context.ArtifactOptions, cancellationToken,
            tags).ConfigureAwait(false);
        entry.Path = path;
        lock (_manifest)
        {
            _manifest.Artifacts.Add(entry);
        }

        return entry;
    }

    /// <summary>Writes the signed manifest (last), publishes the public signing key, releases the lock.</summary>
    public async Task<BackupInfo> CompleteAsync(CancellationToken cancellationToken)
    {
        if (!await _lock.IsHeldAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new EcomDrException(ErrorIds.RepositoryLocked, FailureKind.ResourceBusy,
                $"Backup {Id} lost its repository lock to another writer; it stays incomplete.", Id);
        }

        cancellationToken.ThrowIfCancellationRequested();
        _manifest.Artifacts.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        _manifest.CompletedAt = _context.Now;
        var signer = _context.SigningKey!;
        var publicKey = RepositoryLayout.PublicKeyKey(signer.SigningKeyId);
        if (await _context.Store.StatAsync(publicKey, cancellationToken).ConfigureAwait(false) is null)
        {
            await _context.Store.PutAsync(publicKey, System.Text.Encoding.ASCII.GetBytes(signer.Signing.ExportSubjectPublicKeyInfoPem() + "\n"), cancellationToken)
                .ConfigureAwait(false);
        }

        var envelope = await ManifestCodec.EncodeAsync(_manifest, signer, _context.ManifestVersion, _context.WrappingProviders, _context.PublicLabels, cancellationToken)
            .ConfigureAwait(false);
        await _context.Store.PutAsync(RepositoryLayout.ManifestKey(_manifest.Environment, _manifest.Kind, _manifest.Id), envelope, cancellationToken)
            .ConfigureAwait(false);
        return BackupInfo.From(_manifest, _context.Store.Name, _context.Store.Location);
    }

    private static BackupManifest NewManifest(RepositoryContext context, string kind, IReadOnlyDictionary<string, string>? labels)
    {
        RepositoryLayout.ValidateName(context.Environment, "environment name");
        RepositoryLayout.ValidateName(kind, "backup kind");
        if (context.SigningKey is null)
        {
            throw new EcomDrException(ErrorIds.KeyNotFound, FailureKind.InvalidArgument, "Writing a backup needs a local key file to sign its manifest.", kind);
        }

        var started = context.Now;
        var manifest = new BackupManifest { Id = RepositoryLayout.NewBackupId(started), Kind = kind, Environment = context.Environment, StartedAt = started };
        manifest.Labels["host"] = System.Environment.MachineName;
        manifest.Labels["toolVersion"] = typeof(BackupWriter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        foreach (var (label, value) in CiLabels())
        {
            manifest.Labels[label] = value;
        }

        foreach (var (key, value) in labels ?? new Dictionary<string, string>())
        {
            manifest.Labels[key] = value;
        }

        return manifest;
    }

    /// <summary>The revision CI systems and deploy jobs announce (gitCommit, gitTag), which labels record and which override what a file backup reads from git.</summary>
    internal static IReadOnlyDictionary<string, string> CiLabels()
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (label, variables) in new[] { ("gitCommit", new[] { "ECOMDR_GIT_COMMIT", "GIT_COMMIT", "GITHUB_SHA", "BUILD_SOURCEVERSION" }), ("gitTag", new[] { "ECOMDR_GIT_TAG", "GIT_TAG" }) })
        {
            if (variables.Select(System.Environment.GetEnvironmentVariable).FirstOrDefault(v => !string.IsNullOrEmpty(v)) is { } value)
            {
                labels[label] = value;
            }
        }

        return labels;
    }

    public ValueTask DisposeAsync() => _ownsLock ? _lock.DisposeAsync() : ValueTask.CompletedTask;
}
