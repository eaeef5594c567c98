namespace EcomDr.Engine.Pipeline.Storage;

/// <summary>An object in a store: its key ('/'-separated, relative to the store's root) and size.</summary>
public sealed record StoreObject(string Key, long Size, DateTimeOffset Modified);

/// <summary>
/// Where backups live: a file-system folder or an S3 bucket/prefix, behind one small interface.
/// Writes are all-or-nothing: an upload that is not committed leaves no object at its key.
/// </summary>
public interface IObjectStore
{
    /// <summary>The repository name in the configuration: "primary", "offsite".</summary>
    string Name { get; }

    /// <summary>Where it is, for messages: file:///srv/ecomdr or s3://bucket/prefix.</summary>
    string Location { get; }

    /// <summary>Starts an upload; <paramref name="tags"/> become object tags where the store has them (S3).</summary>
    Task<IStoreUpload> BeginUploadAsync(string key, IReadOnlyDictionary<string, string>? tags, CancellationToken cancellationToken);

    /// <summary>Opens an object for streaming; <see cref="Errors.ErrorIds.ArtifactMissing"/> when absent.</summary>
    Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken);

    IAsyncEnumerable<StoreObject> ListAsync(string prefix, CancellationToken cancellationToken);

    Task<StoreObject?> StatAsync(string key, CancellationToken cancellationToken);

    /// <summary>Writes a small object whole, replacing any previous one atomically.</summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);

    /// <summary>Writes a small object only if none exists; false when one does (lock files).</summary>
    Task<bool> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);

    Task DeleteAsync(string key, CancellationToken cancellationToken);
}

/// <summary>An upload in progress. Disposing without <see cref="CommitAsync"/> abandons it.</summary>
public interface IStoreUpload : IAsyncDisposable
{
    Stream Stream { get; }

    Task CommitAsync(CancellationToken cancellationToken);
}
