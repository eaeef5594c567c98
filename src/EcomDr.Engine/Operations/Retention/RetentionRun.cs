using EcomDr.Engine.Config;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Operations.Retention;

/// <summary>
/// One retention run in one store: it holds the store's retention lock (one run at a time), plans
/// under it, and removes expired backups one by one with the manifest-first removal, so an
/// interrupted run leaves only incomplete backups, which the next run removes.
/// </summary>
public sealed class RetentionRun : IAsyncDisposable
{
    public const string LockName = "retention";

    private readonly RepositoryContext _context;
    private readonly RepositoryLock _lock;

    private RetentionRun(RepositoryContext context, RepositoryLock held, RetentionPlan plan)
    {
        _context = context;
        _lock = held;
        Plan = plan;
    }

    public RetentionPlan Plan { get; }

    public int Removed { get; private set; }

    public long BytesFreed { get; private set; }

    public static async Task<RetentionRun> BeginAsync(RepositoryContext context, RetentionConfig policy, CancellationToken ct)
    {
        var held = await RepositoryLock.AcquireAsync(context.Store, context.Environment, LockName, "retention run", TimeSpan.FromMinutes(2), ct).ConfigureAwait(false);
        try
        {
            return new RetentionRun(context, held, await RetentionPlanner.PlanAsync(context, policy, ct).ConfigureAwait(false));
        }
        catch
        {
            await held.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Removes one backup the plan expired (manifest first).</summary>
    public async Task RemoveAsync(RetentionDecision decision, CancellationToken ct)
    {
        if (decision.Keep)
        {
            throw new InvalidOperationException($"{decision.Id} is kept: {decision.Reason}");
        }

        await BackupRemover.RemoveAsync(_context, decision.Backup, ct).ConfigureAwait(false);
        Removed++;
        BytesFreed += decision.Size;
    }

    public RetentionSummary Summary(bool whatIf) =>
        new(Plan.Environment, Plan.Store, Plan.Now, Plan.Kept.Count(), Plan.Expired.Count(), Removed, BytesFreed, whatIf);

    public ValueTask DisposeAsync() => _lock.DisposeAsync();
}
