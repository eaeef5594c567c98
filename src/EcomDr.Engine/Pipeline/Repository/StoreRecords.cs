using System.Runtime.CompilerServices;
using System.Text.Json;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Storage;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>The small JSON records kept beside the backups (holds, read leases, verifications): written whole, listed by folder.</summary>
internal static class StoreRecords
{
    public static Task PutAsync<T>(IObjectStore store, string key, T record, CancellationToken ct) =>
        store.PutAsync(key, JsonSerializer.SerializeToUtf8Bytes(record, ManifestCodec.Options), ct);

    /// <summary>Every .json record under <paramref name="prefix"/>; null for one that is unreadable or went away while listed.</summary>
    public static async IAsyncEnumerable<(StoreObject Object, T? Record)> ReadAllAsync<T>(IObjectStore store, string prefix, [EnumeratorCancellation] CancellationToken ct)
        where T : class
    {
        await foreach (var obj in store.ListAsync(prefix, ct).ConfigureAwait(false))
        {
            if (!obj.Key.EndsWith(".json", StringComparison.Ordinal))
            {
                continue;
            }

            T? record;
            try
            {
                await using var stream = await store.OpenReadAsync(obj.Key, ct).ConfigureAwait(false);
                record = await JsonSerializer.DeserializeAsync<T>(stream, ManifestCodec.Options, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is JsonException or EcomDrException { Kind: FailureKind.ObjectNotFound })
            {
                record = null;
            }

            yield return (obj, record);
        }
    }
}
