using EcomDr.Engine.Credentials;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Dump;
using EcomDr.Engine.Sources.MySql.Load;
using EcomDr.Engine.Sources.MySql.Pitr;
using EcomDr.Engine.Sources.MySql.Shared;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.TestKit.Differential;
using EcomDr.TestKit.Servers;
using MySqlConnector;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>
/// Any legal identifier backs up, restores, loads with the stock client and replays: a schema and
/// tables, columns, a view, routines, a trigger and an event named with spaces, %, *, ?, ., /, \,
/// quotes, backticks, unicode and 64 characters.
/// </summary>
public sealed class IdentifierTests : IAsyncLifetime
{
    private const string Schema = "shop ë.%*?/\\\"'`x";
    private static readonly string Long = new string('é', 63) + "t";
    private static readonly string[] Tables = { "t.%*? /\\'\"x`中", "100%", "a*b?c", "dot.dot", "sl/ash", "back\\slash", "tick`tock", Long, "plain" };

    private MariaDbServer _source = null!;
    private MariaDbServer _target = null!;
    private RepoFixture _repo = null!;

    public async Task InitializeAsync()
    {
        var servers = await Task.WhenAll(MariaDbServer.StartAsync(), MariaDbServer.StartAsync(new MariaDbOptions { ServerId = 2, GtidDomainId = 2 }));
        (_source, _target) = (servers[0], servers[1]);
        _repo = new RepoFixture(frameSize: 1 << 16);
    }

    public async Task DisposeAsync()
    {
        _repo.Dispose();
        await _source.DisposeAsync();
        await _target.DisposeAsync();
    }

    private static string Q(string name) => Identifiers.Quote(name);

    private static MySqlEndpoint Root(MariaDbServer server) => new("127.0.0.1", server.Port, "root", Secret.Empty, "None");

    [Fact]
    public void ArtifactNamesEncodeIdentifiersReversiblyWithinAFileName()
    {
        foreach (var name in Tables.Append(Schema).Append(new string('%', 64)).Append(new string('中', 64)))
        {
            var encoded = ArtifactNames.Encode(name);
            Assert.Equal(name, ArtifactNames.Decode(encoded));
            Assert.DoesNotContain('.', encoded);
            Assert.True(System.Text.Encoding.UTF8.GetByteCount(encoded) <= 192, encoded);
            RepositoryLayout.ValidateArtifactName($"data/{encoded}/{encoded}.00001.sql");
        }

        Assert.Equal("plain_name-1", ArtifactNames.Encode("plain_name-1"));
        Assert.Equal("a%20b%2Fc%25", ArtifactNames.Encode("a b/c%"));
    }

    [Fact]
    public async Task OddlyNamedObjectsBackUpRestoreLoadWithTheStockClientAndReplay()
    {
        var sql = new System.Text.StringBuilder($"CREATE DATABASE {Q(Schema)};");
        foreach (var (table, i) in Tables.Select((t, i) => (t, i)))
        {
            sql.Append($"CREATE TABLE {Q(Schema)}.{Q(table)} (`i d` INT PRIMARY KEY, `v.%` VARCHAR(40)); INSERT INTO {Q(Schema)}.{Q(table)} VALUES ({i}, 'it''s {i}'), ({i + 100}, NULL);");
        }

        sql.Append($"CREATE VIEW {Q(Schema)}.{Q("v `view` %")} AS SELECT `i d` FROM {Q(Schema)}.{Q(Tables[0])};");
        sql.Append($"CREATE PROCEDURE {Q(Schema)}.{Q("p.r?c")}() INSERT INTO {Q(Schema)}.{Q("100%")} VALUES (999, 'proc');");
        sql.Append($"CREATE FUNCTION {Q(Schema)}.{Q("f`n")}(x INT) RETURNS INT DETERMINISTIC RETURN x + 1;");
        sql.Append($"CREATE TRIGGER {Q(Schema)}.{Q("tr/ig")} AFTER INSERT ON {Q(Schema)}.{Q("a*b?c")} FOR EACH ROW INSERT INTO {Q(Schema)}.{Q("plain")} VALUES (NEW.`i d` + 1000, 'trigger');");
        sql.Append($"CREATE EVENT {Q(Schema)}.{Q("e v'ent")} ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM {Q(Schema)}.{Q("plain")};");
        await _source.ExecuteAsync(sql.ToString());

        var dump = await MySqlDumper.RunAsync(_repo.Context, Root(_source), new DumpOptions(new[] { Schema }, ThreadCount: 2, ChunkRows: 1), null, CancellationToken.None);
        Assert.Contains(dump.Backup.Manifest!.Artifacts, a => a.Name == $"data/{ArtifactNames.Encode(Schema)}/{ArtifactNames.Encode(Tables[0])}.00001.sql");
        var source = await SchemaState.ReadAsync(_source.RootConnectionString, Schema);
        Assert.Equal(Tables.Length, source.Entries.Keys.Count(k => k.StartsWith("table ", StringComparison.Ordinal)));

        // EcomDr's restore, under the same name and under another odd one.
        // Every chunk loads as LOAD DATA LOCAL: the table and column names go into its statement.
        var options = new RestoreOptions();
        var first = await MySqlRestorer.RunAsync(_repo.Context, await RestorePlan.CreateAsync(_repo.Context, dump.Backup, options, CancellationToken.None), Root(_target), options, null, CancellationToken.None);
        Assert.Equal(dump.Chunks, first.LoadDataChunks);
        Assert.Empty(source.Differences(await SchemaState.ReadAsync(_target.RootConnectionString, Schema)));
        var renamed = new RestoreOptions(TargetSchema: "r`e %s/t.o\\re");
        var second = await MySqlRestorer.RunAsync(_repo.Context, await RestorePlan.CreateAsync(_repo.Context, dump.Backup, renamed, CancellationToken.None), Root(_target), renamed, null, CancellationToken.None);
        Assert.Equal(dump.Chunks, second.LoadDataChunks);
        Assert.Empty(source.Differences(await SchemaState.ReadAsync(_target.RootConnectionString, "r`e %s/t.o\\re")));

        // The stock client loads the expanded files (schema, chunks, objects) as they are, under the schema's own name
        // (the objects name it, as the dump wrote them).
        var dir = Path.Join(_repo.Root, "expanded");
        foreach (var artifact in dump.Backup.Manifest.Artifacts.Where(a => a.Name.EndsWith(".sql", StringComparison.Ordinal)))
        {
            await ArtifactExpander.ExpandAsync(_repo.Context, dump.Backup, artifact, Path.Join(dir, artifact.Name), false, CancellationToken.None);
        }

        var encoded = ArtifactNames.Encode(Schema);
        await _target.ExecuteAsync($"DROP DATABASE {Q(Schema)}; CREATE DATABASE {Q(Schema)} CHARACTER SET utf8mb4");
        var files = new List<string> { Path.Join(dir, "schema", encoded + ".tables.sql") };
        files.AddRange(Directory.EnumerateFiles(Path.Join(dir, "data", encoded)).Order(StringComparer.Ordinal));
        files.Add(Path.Join(dir, "schema", encoded + ".objects.sql"));
        foreach (var file in files)
        {
            await StockTools.RunScriptAsync(file, _target, Schema);
        }

        var loaded = await SchemaState.ReadAsync(_target.RootConnectionString, Schema);
        Assert.True(source.Differences(loaded).Count == 0, string.Join("\n", source.Differences(loaded)));

        // Changes after the backup replay, by row events and by DDL naming the odd objects.
        await _source.ExecuteAsync($"""
            INSERT INTO {Q(Schema)}.{Q("a*b?c")} VALUES (500, 'fires the trigger');
            CALL {Q(Schema)}.{Q("p.r?c")}();
            UPDATE {Q(Schema)}.{Q(Tables[0])} SET `v.%` = 'shop ë.%*?/\\"''`x' WHERE `i d` = 0;
            ALTER TABLE {Q(Schema)}.{Q("tick`tock")} ADD COLUMN `n``ew` INT NOT NULL DEFAULT 7;
            RENAME TABLE {Q(Schema)}.{Q("sl/ash")} TO {Q(Schema)}.{Q("sl/ash 2")};
            CREATE TABLE {Q(Schema)}.{Q("c?tas")} AS SELECT * FROM {Q(Schema)}.{Q("100%")};
            DROP TABLE {Q(Schema)}.{Q("dot.dot")};
            """);
        var after = await SchemaState.ReadAsync(_source.RootConnectionString, Schema);
        await BinlogShipper.ShipAsync(_repo.Context, Root(_source), new ShipOptions(4242, Rotate: true), _ => Task.CompletedTask, null, CancellationToken.None);
        await _target.ResetAsync();
        var plan = await PitrRestorer.PlanAsync(_repo.Context, new PitrOptions(), CancellationToken.None);
        await PitrRestorer.RunAsync(_repo.Context, plan, Root(_target), null, null, CancellationToken.None);
        Assert.Empty(after.Differences(await SchemaState.ReadAsync(_target.RootConnectionString, Schema)));

        // And beside it, into a renamed odd schema on the source itself.
        var side = await PitrRestorer.PlanAsync(_repo.Context, new PitrOptions(Restore: new RestoreOptions(TargetSchema: "side `%.x")), CancellationToken.None);
        await PitrRestorer.RunAsync(_repo.Context, side, Root(_source), null, null, CancellationToken.None);
        Assert.Empty(after.Differences(await SchemaState.ReadAsync(_source.RootConnectionString, "side `%.x")));
        Assert.Empty(after.Differences(await SchemaState.ReadAsync(_source.RootConnectionString, Schema))); // the live one untouched
    }
}
