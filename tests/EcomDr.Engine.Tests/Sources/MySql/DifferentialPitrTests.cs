using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Load;
using EcomDr.Engine.Sources.MySql.Pitr;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.TestKit.Differential;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>
/// The differential method: the statement corpus runs on a real MariaDB with a checkpoint after each
/// step; then point-in-time recovery goes to every checkpoint by position and by GTID onto a fresh
/// server (original GTIDs kept, transactions spilled to disk past 4 KiB; with strict mode off the binlog
/// rotates after every step too) and by time into a side
/// schema on the source itself. Each must give `shop` exactly as the source had it at the checkpoint,
/// leave every other schema as it was, and (fresh server) hold the source's GTID state with every GTID
/// once. With gtid_strict_mode off, the stock `mariadb-binlog | mariadb`, run on a server that has
/// every schema, must reach the same `shop`; with it on, the stock tool fails at the first CREATE TABLE
/// … SELECT followed by another transaction (it logs the GTID twice), which is one of the things this proves.
/// </summary>
public sealed class DifferentialPitrTests : IAsyncLifetime
{
    private RepoFixture _repo = null!;
    private RepoFixture _all = null!;

    public Task InitializeAsync()
    {
        _repo = new RepoFixture(frameSize: 1 << 16);
        _all = new RepoFixture(frameSize: 1 << 16);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _repo.Dispose();
        _all.Dispose();
        return Task.CompletedTask;
    }

    private static MySqlEndpoint Root(MariaDbServer server) => new("127.0.0.1", server.Port, "root", Secret.Empty, "None");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RecoveryToEveryCheckpointOfTheCorpusIsExactAndTouchesNothingElse(bool strict)
    {
        await using var source = await MariaDbServer.StartAsync(new MariaDbOptions { GtidStrictMode = strict });
        await source.ExecuteAsync(StatementCorpus.Setup);
        var csv = Path.Join(source.Directory, "load.csv");
        await File.WriteAllTextAsync(csv, StatementCorpus.CsvContent);
        var full = await MySqlDumper.RunAsync(_repo.Context, Root(source), new DumpOptions(new[] { StatementCorpus.Schema }, ThreadCount: 2), null, CancellationToken.None);
        var everything = await MySqlDumper.RunAsync(_all.Context, Root(source), new DumpOptions(new[] { StatementCorpus.Schema, StatementCorpus.Other }, ThreadCount: 2), null, CancellationToken.None);
        var start = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 60);
        // With strict mode off the binlog also rotates after every step: replay crosses a file boundary between any two.
        var checkpoints = await CorpusRun.RunAsync(source, StatementCorpus.Steps(csv), start, rotateEachStep: !strict);
        await BinlogShipper.ShipAsync(_repo.Context, Root(source), new ShipOptions(4242, Rotate: true), _ => Task.CompletedTask, null, CancellationToken.None);

        await using var fresh = await MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 7, GtidDomainId = 7, GtidStrictMode = strict });
        await using var stock = strict ? null : await MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 8, GtidDomainId = 8, GtidStrictMode = false });
        var failures = new List<string>();
        var others = await SchemaState.OthersAsync(source.RootConnectionString, "shop_pitr", "ecomdr"); // what the side restores must leave as it is
        foreach (var checkpoint in checkpoints)
        {
            var at = $"step {checkpoint.Step} '{checkpoint.Name}'";
            await FreshAsync(fresh, checkpoint, new PitrOptions(StopAtPosition: new BinlogCoordinate(checkpoint.File, checkpoint.Position), TransactionMemory: 4096), $"{at} by position", failures);
            if (checkpoint.NextGtid is { } next)
            {
                await FreshAsync(fresh, checkpoint, new PitrOptions(StopBeforeGtid: next), $"{at} by GTID {next}", failures);
            }
            await SideSchemaAsync(source, checkpoint, others, $"{at} by time {checkpoint.Time:HH:mm:ss} into a side schema", failures);
            if (stock is not null)
            {
                await stock.ResetAsync();
                var plan = await RestorePlan.CreateAsync(_all.Context, everything.Backup, new RestoreOptions(NoBinlog: true), CancellationToken.None);
                await MySqlRestorer.RunAsync(_all.Context, plan, Root(stock), new RestoreOptions(NoBinlog: true), null, CancellationToken.None);
                await StockTools.ReplayAsync(source, (string)everything.Backup.Manifest!.Source["binlogFile"]!, (long)everything.Backup.Manifest.Source["binlogPosition"]!,
                    checkpoint.File, checkpoint.Position, stock);
                Compare(checkpoint.Shop, await SchemaState.ReadAsync(stock.RootConnectionString, StatementCorpus.Schema), $"{at}: the stock tools", failures);
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));

        // The steps that write only outside `shop` while naming it were left out and recorded with their GTIDs.
        await fresh.ResetAsync();
        var last = checkpoints[^1];
        var result = await PitrRestorer.RunAsync(_repo.Context, await PitrRestorer.PlanAsync(_repo.Context, new PitrOptions(StopAtPosition: new BinlogCoordinate(last.File, last.Position)), CancellationToken.None),
            Root(fresh), null, null, CancellationToken.None);
        foreach (var outside in checkpoints.Where(c => c.WritesOutside))
        {
            Assert.Contains(result.Skipped, s => GtidSets.MariaDb(s.Gtid) is { } g && g.Sequence >= outside.FirstSequence && g.Sequence <= outside.LastSequence);
        }

        Assert.True(result.ForeignTransactions > 0);
        Assert.DoesNotContain(result.Skipped, s => s.Statement.Contains("not-a-secret", StringComparison.Ordinal)); // the account's password is withheld
        Assert.Contains(result.Skipped, s => s.Statement.StartsWith("CREATE USER", StringComparison.OrdinalIgnoreCase) && s.Statement.Contains("'…'", StringComparison.Ordinal));

        // The review script of the same recovery, run through the stock client after the full restore, gives the same
        // `shop` (XA prepares in sessions of their own through the client's reconnect; CREATE TABLE … SELECT's rows unlogged).
        if (strict)
        {
            await fresh.ResetAsync();
            var script = Path.Join(_repo.Root, "review.sql");
            var scripted = await PitrRestorer.PlanAsync(_repo.Context, new PitrOptions(StopAtPosition: new BinlogCoordinate(last.File, last.Position)), CancellationToken.None);
            await PitrRestorer.WriteScriptAsync(_repo.Context, scripted, script, "fresh", CancellationToken.None);
            var restoreOnly = new RestoreOptions(NoBinlog: true);
            await MySqlRestorer.RunAsync(_repo.Context, await RestorePlan.CreateAsync(_repo.Context, full.Backup, restoreOnly, CancellationToken.None), Root(fresh), restoreOnly, null,
                CancellationToken.None);
            await StockTools.RunScriptAsync(script, fresh);
            var differences = last.Shop.Differences(await SchemaState.ReadAsync(fresh.RootConnectionString, StatementCorpus.Schema));
            Assert.True(differences.Count == 0, string.Join("\n", differences));
        }
    }

    /// <summary>Onto a fresh server, original GTIDs kept: `shop` as at the checkpoint, no other schema, the source's GTID state, each GTID once.</summary>
    private async Task FreshAsync(MariaDbServer fresh, CorpusCheckpoint checkpoint, PitrOptions options, string what, List<string> failures)
    {
        await fresh.ResetAsync();
        PitrResult result;
        try
        {
            var plan = await PitrRestorer.PlanAsync(_repo.Context, options, CancellationToken.None);
            result = await PitrRestorer.RunAsync(_repo.Context, plan, Root(fresh), null, null, CancellationToken.None);
        }
        catch (EcomDrException ex)
        {
            failures.Add($"{what}: {ex.ErrorId}: {ex.Message}");
            return;
        }

        Compare(checkpoint.Shop, await SchemaState.ReadAsync(fresh.RootConnectionString, StatementCorpus.Schema), what, failures);
        var schemas = await SchemaState.SchemasAsync(fresh.RootConnectionString);
        if (!schemas.SequenceEqual(new[] { "ecomdr", StatementCorpus.Schema }))
        {
            failures.Add($"{what}: the fresh server holds the schemas {string.Join(", ", schemas)}");
        }

        var position = Convert.ToString(await fresh.ScalarAsync("SELECT @@GLOBAL.gtid_binlog_pos"))!.Split(',');
        if (!position.Contains(checkpoint.GtidPosition))
        {
            failures.Add($"{what}: GTID state {string.Join(",", position)}, the source's was {checkpoint.GtidPosition}");
        }

        var gtids = await StockTools.BinlogGtidsAsync(fresh);
        var twice = gtids.GroupBy(g => g).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (twice.Count > 0)
        {
            failures.Add($"{what}: GTIDs logged twice on the target: {string.Join(", ", twice)}");
        }

        if (result.AchievedRpoSeconds is not (>= 0))
        {
            failures.Add($"{what}: AchievedRpo is {result.AchievedRpoSeconds?.ToString() ?? "empty"}");
        }

        if (result.LastGtid.Length > 0 && GtidSets.Contains(string.Join(",", position), result.LastGtid) != true)
        {
            failures.Add($"{what}: LastGtid {result.LastGtid} is not in the target's GTID state");
        }
    }

    /// <summary>Into `shop_pitr` on the source itself, new GTIDs: `shop_pitr` as `shop` was at the checkpoint, every other schema unchanged.</summary>
    private async Task SideSchemaAsync(MariaDbServer source, CorpusCheckpoint checkpoint, IReadOnlyDictionary<string, SchemaState> before, string what, List<string> failures)
    {
        try
        {
            var plan = await PitrRestorer.PlanAsync(_repo.Context, new PitrOptions(TargetTime: checkpoint.Time, AllowPartial: true,
                Restore: new RestoreOptions(TargetSchema: "shop_pitr")), CancellationToken.None);
            await PitrRestorer.RunAsync(_repo.Context, plan, Root(source), null, null, CancellationToken.None);
            Compare(checkpoint.Shop, await SchemaState.ReadAsync(source.RootConnectionString, "shop_pitr"), what, failures);
        }
        catch (EcomDrException ex)
        {
            failures.Add($"{what}: {ex.ErrorId}: {ex.Message}");
        }

        var after = await SchemaState.OthersAsync(source.RootConnectionString, "shop_pitr", "ecomdr");
        foreach (var schema in before.Keys.Union(after.Keys))
        {
            if (!before.TryGetValue(schema, out var b) || !after.TryGetValue(schema, out var a) || b.Differences(a) is { Count: > 0 })
            {
                failures.Add($"{what}: schema {schema} changed outside the target");
            }
        }

        await source.ExecuteAsync("SET SESSION sql_log_bin = 0; DROP DATABASE IF EXISTS shop_pitr");
    }

    private static void Compare(SchemaState expected, SchemaState actual, string what, List<string> failures)
    {
        var differences = expected.Differences(actual);
        if (differences.Count > 0)
        {
            failures.Add($"{what}: {string.Join("; ", differences.Take(6))}");
        }
    }
}
