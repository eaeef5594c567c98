using System.Collections.Concurrent;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// Verifies, before a restore changes anything, that every artifact it will read is in the store and
/// that its stored bytes hash to the SHA-256 the signed manifest records (without decrypting: what
/// hashes right is what was written). Artifacts are checked in parallel; the first failure is thrown,
/// naming the artifact.
/// </summary>
public static class ArtifactPreflight
{
    public static async Task VerifyAsync(RepositoryContext context, IReadOnlyList<(BackupInfo Backup, ArtifactEntry Artifact)> artifacts, int workers,
        IProgress<(int Done, int Total)>? progress, CancellationToken ct)
    {
        var queue = new ConcurrentQueue<(BackupInfo Backup, ArtifactEntry Artifact)>(artifacts);
        var done = 0;
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(ct);
        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, Math.Min(workers, artifacts.Count))).Select(_ => Task.Run(async () =>
        {
            var buffer = new byte[1 << 17];
            try
            {
                while (queue.TryDequeue(out var item))
                {
                    await using var stream = await ArtifactReader.OpenStoredAsync(context.Store, item.Backup.Prefix + item.Artifact.Path, item.Artifact, failed.Token).ConfigureAwait(false);
                    while (await stream.ReadAsync(buffer, failed.Token).ConfigureAwait(false) > 0)
                    {
                    }

                    progress?.Report((Interlocked.Increment(ref done), artifacts.Count));
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await failed.CancelAsync().ConfigureAwait(false); // the others stop: one damaged artifact is enough to refuse
                throw;
            }
        }, failed.Token))).ConfigureAwait(false);
    }

    /// <summary>The default of -VerifyFirst: on when the store is remote (S3), where a restore would otherwise find damage only as it reaches it.</summary>
    public static bool DefaultFor(RepositoryContext context) => context.Store is not Storage.FileSystemStore;
}
