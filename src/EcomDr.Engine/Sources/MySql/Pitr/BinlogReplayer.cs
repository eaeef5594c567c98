using System.Diagnostics;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Sources.MySql.Wire;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// Applies archived binlog events to a server, transaction by transaction, as the stock binlog tool's
/// output would, but deciding each transaction whole before any of it is applied: it is read
/// completely (<see cref="TransactionReader"/>), checked against the stop point by its commit time,
/// GTID or end position (docs/pitr.md), scoped to the restored schemas (<see cref="ReplayScope"/>),
/// then applied (<see cref="TransactionApplier"/>) or not at all. Original GTIDs are kept when asked,
/// each consumed exactly once; a transaction left out keeps its GTID too, so the target's GTID state
/// is the source's at the stop point.
/// </summary>
public static class BinlogReplayer
{

    /// <summary>Bytes of one transaction's events held in memory; the rest of a bigger one goes to an encrypted temporary file.</summary>
    public const long DefaultTransactionMemory = 32 << 20;

    public static async Task<ReplayResult> ReplayAsync(MySqlEndpoint endpoint, IAsyncEnumerable<ArchivedEvent> events, ReplayOptions options,
        IProgress<ReplayProgress>? progress, CancellationToken ct)
    {
        // Several statements per query save round trips (the GTID and BEGIN, a statement's context and schema).
        await using var connection = await WireConnection.OpenAsync(endpoint, ct, multiStatements: true).ConfigureAwait(false);
        return await ReplayAsync(new ServerSink(connection, endpoint), events, options, progress, ct, endpoint).ConfigureAwait(false);
    }

    /// <summary>Replays into any sink: a server, or a script written for review instead of run.</summary>
    public static Task<ReplayResult> ReplayAsync(IReplaySink target, IAsyncEnumerable<ArchivedEvent> events, ReplayOptions options,
        IProgress<ReplayProgress>? progress, CancellationToken ct) => ReplayAsync(target, events, options, progress, ct, null);

    private static async Task<ReplayResult> ReplayAsync(IReplaySink target, IAsyncEnumerable<ArchivedEvent> events, ReplayOptions options,
        IProgress<ReplayProgress>? progress, CancellationToken ct, MySqlEndpoint? endpoint)
    {
        var clock = Stopwatch.StartNew();
        await using var run = new ReplayRun(target, options, progress, endpoint);
        try
        {
            await run.PrepareAsync(ct).ConfigureAwait(false);
            await foreach (var transaction in TransactionReader.ReadAsync(Prefetch(events, ct), options.TransactionMemory, ct).ConfigureAwait(false))
            {
                bool more;
                try
                {
                    more = await run.TakeAsync(transaction, ct).ConfigureAwait(false);
                }
                finally
                {
                    if (!transaction.HandedOff)
                    {
                        await transaction.DisposeAsync().ConfigureAwait(false);
                    }
                }

                if (!more)
                {
                    break;
                }
            }

            await run.FinishAsync(ct).ConfigureAwait(false);
        }
        catch (ReplayWorkerException ex)
        {
            await run.AbandonAsync().ConfigureAwait(false);
            var state = run.State;
            throw new EcomDrException(ErrorIds.ReplayFailed, FailureKind.InvalidOperation,
                $"Replay failed at {ex.Transaction}: {ex.InnerException?.Message}. {state.Transactions} transaction(s) were applied before it, in binlog order, and none after it, the last {(state.LastGtid.Length > 0 ? state.LastGtid : "(none)")} ending at {(state.LastFile.Length > 0 ? $"{state.LastFile}:{state.LastPosition}" : "(none)")}.",
                ex.Target, ex.InnerException);
        }
        catch (WireServerException ex)
        {
            await run.AbandonAsync().ConfigureAwait(false);
            var state = run.State;
            var current = run.Current;
            throw new EcomDrException(ErrorIds.ReplayFailed, FailureKind.InvalidOperation,
                $"Replay failed at {current?.Describe() ?? "its start"}: {ex.Message}. {state.Transactions} transaction(s) were applied before it, the last {(state.LastGtid.Length > 0 ? state.LastGtid : "(none)")} ending at {(state.LastFile.Length > 0 ? $"{state.LastFile}:{state.LastPosition}" : "(none)")}.",
                current?.GtidText ?? current?.Start, ex);
        }
        catch
        {
            await run.AbandonAsync().ConfigureAwait(false);
            throw;
        }

        return run.Result(clock.Elapsed);
    }

    /// <summary>
    /// Reads (decrypts, decompresses, verifies) the next events while the server applies the current
    /// ones: a bounded queue, so memory stays flat.
    /// </summary>
    private static async IAsyncEnumerable<ArchivedEvent> Prefetch(IAsyncEnumerable<ArchivedEvent> source,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var queue = System.Threading.Channels.Channel.CreateBounded<ArchivedEvent>(new System.Threading.Channels.BoundedChannelOptions(512) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var item in source.WithCancellation(stop.Token).ConfigureAwait(false))
                {
                    await queue.Writer.WriteAsync(item, stop.Token).ConfigureAwait(false);
                }

                queue.Writer.Complete();
            }
            catch (Exception ex)
            {
                queue.Writer.Complete(ex);
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var item in queue.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                yield return item;
            }
        }
        finally
        {
            // Stopping early (a target reached) ends the reader too.
            stop.Cancel();
            try
            {
                await reader.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
