using System.Globalization;
using EcomDr.TestKit.Servers;
using MySqlConnector;

namespace EcomDr.TestKit.Differential;

/// <summary>
/// The source at one checkpoint, right after a step: where its binlog stood, its GTID state, the first
/// GTID after it (to stop right before), a time between this step and the next, what `shop` held and
/// what every other schema held. GTID sequence numbers are those of the source's domain 0.
/// </summary>
public sealed record CorpusCheckpoint(
    int Step,
    string Name,
    string File,
    long Position,
    string GtidPosition,
    ulong FirstSequence,
    ulong LastSequence,
    string? NextGtid,
    DateTimeOffset Time,
    SchemaState Shop,
    IReadOnlyDictionary<string, SchemaState> Others,
    bool WritesOutside);

/// <summary>
/// Runs the corpus on a source server, one step after another, and takes a checkpoint after each
/// (optionally rotating the binlog after every step).
/// Every step runs under a session timestamp of its own, ten seconds after the previous one
/// (SET timestamp: the binlog records it as the events' time), so target times between steps are
/// exact without waiting for the clock.
/// </summary>
public static class CorpusRun
{
    /// <summary>Runs the steps; with <paramref name="rotateEachStep"/> the binlog rotates after every one, so replay crosses a file boundary between any two steps.</summary>
    public static async Task<IReadOnlyList<CorpusCheckpoint>> RunAsync(MariaDbServer source, IReadOnlyList<CorpusStep> steps, DateTimeOffset start, bool rotateEachStep = false)
    {
        var checkpoints = new List<CorpusCheckpoint>();
        var before = Sequence(Convert.ToString(await source.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos").ConfigureAwait(false)) ?? "");
        for (var i = 0; i < steps.Count; i++)
        {
            var at = start.AddSeconds(10 * (i + 1));
            await using (var c = await source.OpenRootAsync(StatementCorpus.Schema).ConfigureAwait(false)) // the application's default schema
            {
                await using var command = new MySqlCommand($"SET timestamp = {at.ToUnixTimeSeconds()}; {steps[i].Sql}", c);
                try
                {
                    await command.ExecuteNonQueryAsync().ConfigureAwait(false);
                }
                catch (MySqlException ex)
                {
                    throw new InvalidOperationException($"Corpus step {i} '{steps[i].Name}' failed on the source: {ex.Message}", ex);
                }
            }

            if (rotateEachStep)
            {
                await source.ExecuteAsync("FLUSH BINARY LOGS").ConfigureAwait(false);
            }

            await using var r = await source.OpenRootAsync().ConfigureAwait(false);
            var (gtid, file, position) = await Shop.ShopInspector.BinlogPositionAsync(r).ConfigureAwait(false);
            var last = Sequence(gtid);
            checkpoints.Add(new CorpusCheckpoint(i, steps[i].Name, file, position, gtid, before + 1, last, null, at.AddSeconds(5),
                await SchemaState.ReadAsync(source.RootConnectionString, StatementCorpus.Schema).ConfigureAwait(false),
                await SchemaState.OthersAsync(source.RootConnectionString, StatementCorpus.Schema).ConfigureAwait(false), steps[i].WritesOutside));
            before = last;
        }

        // The GTID to stop right before: the first one a later step wrote (sequence numbers of one domain grow by one).
        for (var i = 0; i < checkpoints.Count; i++)
        {
            if (checkpoints.Skip(i + 1).Any(c => c.LastSequence > checkpoints[i].LastSequence))
            {
                var domainServer = checkpoints[i].GtidPosition[..checkpoints[i].GtidPosition.LastIndexOf('-')];
                checkpoints[i] = checkpoints[i] with { NextGtid = $"{domainServer}-{checkpoints[i].LastSequence + 1}" };
            }
        }

        return checkpoints;
    }

    /// <summary>The sequence number of domain 0 in a MariaDB GTID position ("0-1-42" → 42).</summary>
    public static ulong Sequence(string gtidPosition)
    {
        var part = gtidPosition.Split(',').FirstOrDefault(p => p.StartsWith("0-", StringComparison.Ordinal));
        return part is null ? 0 : ulong.Parse(part[(part.LastIndexOf('-') + 1)..], CultureInfo.InvariantCulture);
    }
}
