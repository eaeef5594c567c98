namespace EcomDr.Engine.Pipeline.Storage;

/// <summary>Reading a small object (a manifest, the catalog index, a record) whole.</summary>
public static class ObjectStoreReads
{
    public static async Task<byte[]> ReadAllAsync(this IObjectStore store, string key, CancellationToken cancellationToken)
    {
        await using var stream = await store.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }
}
