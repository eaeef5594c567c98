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
        return await ReplayAsync(new ServerSink(connection, endpoint), events, options, progress, ct).ConfigureAwait(false);
    }

    /// <summary>Replays into any sink: a server, or a script written for review instead of run.</summary>
    public static async Task<ReplayResult> ReplayAsync(IReplaySink target, IAsyncEnumerable<ArchivedEvent> events, ReplayOptions options,
        IProgress<ReplayProgress>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var map = options.SchemaMap ?? new Dictionary<string, string>();
        var scope = new ReplayScope(map);
        var applier = new TransactionApplier(map, options);
        var session = new ReplaySession(target, options);
        var state = new ReplayState(options);
        var skip = (options.SkipGtids ?? Array.Empty<string>()).ToHashSet(StringComparer.OrdinalIgnoreCase);
        await session.PrepareAsync(ct).ConfigureAwait(false);
        BinlogTransaction? current = null;
        try
        {
            await foreach (var transaction in TransactionReader.ReadAsync(Prefetch(events, ct), options.TransactionMemory, ct).ConfigureAwait(false))
            {
                current = transaction;
                await using (transaction.ConfigureAwait(false))
                {
                    state.Events += transaction.Events.Count + (transaction.Gtid is null ? 0 : 1);
                    if (transaction.End == TransactionEnd.CutOff)
                    {
                        state.Stopped = "end of the shipped binlog";
                        break;
                    }

                    if (state.StopBefore(transaction) is { } why)
                    {
                        state.Stopped = why;
                        state.NextCommitTime = transaction.CommitTime;
                        break;
                    }

                    if (transaction.End == TransactionEnd.Unreadable)
                    {
                        throw transaction.Unreadable!;
                    }

                    if (transaction.End == TransactionEnd.Abandoned)
                    {
                        // Never committed on the source: its commit never reached the binlog.
                        state.Note(transaction, "never committed on the source (the binlog holds it without its end)");
                        continue;
                    }

                    if (transaction.GtidText is { } gtid && skip.Contains(gtid))
                    {
                        state.Note(transaction, "skipped as -SkipGtid asked");
                        await state.LeaveOutAsync(session, transaction, ct).ConfigureAwait(false);
                        continue;
                    }

                    var plan = await scope.PlanAsync(transaction, ct).ConfigureAwait(false);
                    state.Skipped.AddRange(plan.Skipped);
                    if (plan.CompletesXid is { } unknown && !state.Prepared.Remove(Xids.Normalize(unknown)))
                    {
                        // Its prepare was not replayed: another schema's (nothing to complete), or before the start point.
                        if (!state.Foreign.Remove(Xids.Normalize(unknown)))
                        {
                            state.Note(transaction, $"completes XA transaction {unknown}, prepared before the replay's start point: the backup holds none of its changes");
                        }

                        await state.LeaveOutAsync(session, transaction, ct).ConfigureAwait(false);
                        continue;
                    }

                    if (!plan.AppliesAnything)
                    {
                        if (transaction.PreparedXid is { } foreign)
                        {
                            state.Foreign.Add(Xids.Normalize(foreign));
                        }

                        state.ForeignTransactions++;
                        await state.LeaveOutAsync(session, transaction, ct).ConfigureAwait(false);
                        continue;
                    }

                    if (transaction.PreparedXid is { } prepared)
                    {
                        state.Prepared[Xids.Normalize(prepared)] = (prepared, transaction.Describe(), transaction.IsMariaDb);
                    }

                    await applier.ApplyAsync(session, transaction, plan, ct).ConfigureAwait(false);

                    state.Applied(transaction);
                    progress?.Report(new ReplayProgress(state.Transactions, state.Events, transaction.EndFile, transaction.EndPosition, transaction.CommitTime));
                }
            }

            await state.FinishAsync(session, ct).ConfigureAwait(false);
        }
        catch (WireServerException ex)
        {
            await state.ReleaseAsync(session).ConfigureAwait(false);
            await session.RollbackQuietlyAsync().ConfigureAwait(false);
            throw new EcomDrException(ErrorIds.ReplayFailed, FailureKind.InvalidOperation,
                $"Replay failed at {current?.Describe() ?? "its start"}: {ex.Message}. {state.Transactions} transaction(s) were applied before it, the last {(state.LastGtid.Length > 0 ? state.LastGtid : "(none)")} ending at {(state.LastFile.Length > 0 ? $"{state.LastFile}:{state.LastPosition}" : "(none)")}.",
                current?.GtidText ?? current?.Start, ex);
        }
        catch
        {
            await state.ReleaseAsync(session).ConfigureAwait(false);
            await session.RollbackQuietlyAsync().ConfigureAwait(false);
            throw;
        }

        return state.Result(clock.Elapsed);
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
