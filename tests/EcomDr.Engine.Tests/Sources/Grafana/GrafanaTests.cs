using System.Text.Json;
using System.Text;
using System.Text.Json.Nodes;
using EcomDr.Engine.Credentials;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.Files;
using EcomDr.Engine.Sources.Grafana;
using EcomDr.Engine.Tests.Pipeline.Repository;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Sources.Grafana;

/// <summary>
/// Export-GrafanaConfig and Restore-GrafanaConfig's engines against the test kit's stand-in of Grafana's
/// documented HTTP API (no Grafana can run here; LiveGrafanaTests is the opt-in live test): an export
/// into a grafana file backup without any datasource secret, skipped when nothing changed; a restore of
/// that backup into an empty Grafana (planned first, nothing sent), into the mapped folders, then again
/// over itself (dashboards overwritten, datasources POSTed then PUT); a provisioning folder of dashboard
/// JSON; a wrong token as a clear error without the token.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class GrafanaTests : IAsyncLifetime
{
    private const string DbPassword = "pg-S3cret-for-grafana-9f8e";
    private const string LegacyPassword = "legacy-basic-auth-7c6d";
    private readonly RepoFixture _repo = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("ecomdr-grafana-test-").FullName;
    private GrafanaStandIn _source = null!;
    private GrafanaStandIn _target = null!;

    public Task InitializeAsync()
    {
        _source = GrafanaStandIn.Start();
        _target = GrafanaStandIn.Start();
        _source.AddFolder("ops", "Operations");
        _source.AddFolder("shop", "Shop");
        _source.AddDashboard(Dashboard("backups-dr", "Backups & DR", 3), "ops");
        _source.AddDashboard(Dashboard("checkout", "Checkout", 2), "shop");
        _source.AddDashboard(Dashboard("home", "Home", 1));
        _source.AddDatasource(new JsonObject
        {
            ["name"] = "Prometheus", ["uid"] = "prom", ["type"] = "prometheus", ["access"] = "proxy", ["url"] = "http://prometheus:9090", ["isDefault"] = true,
        });
        _source.AddDatasource(new JsonObject
        {
            ["name"] = "Shop DB", ["uid"] = "shopdb", ["type"] = "mysql", ["url"] = "db:3306", ["user"] = "grafana", ["database"] = "ecommerce",
            ["basicAuth"] = true, ["basicAuthUser"] = "proxy", ["basicAuthPassword"] = LegacyPassword,
            ["secureJsonData"] = new JsonObject { ["password"] = DbPassword },
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        await _target.DisposeAsync();
        _repo.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static JsonObject Dashboard(string uid, string title, int panels) => new()
    {
        ["uid"] = uid,
        ["title"] = title,
        ["tags"] = new JsonArray("ecomdr"),
        ["panels"] = new JsonArray(Enumerable.Range(1, panels).Select(i => (JsonNode)new JsonObject
        {
            ["id"] = i, ["type"] = "timeseries", ["title"] = $"{title} panel {i}",
            ["targets"] = new JsonArray(new JsonObject { ["expr"] = $"ecomdr_job_success{{job=\"j{i}\"}}" }),
        }).ToArray()),
        ["schemaVersion"] = 39,
    };

    private static GrafanaClient Client(GrafanaStandIn grafana, string token = GrafanaStandIn.Token) => new(grafana.Endpoint, new Secret(token));

    [Fact]
    public async Task AnExportHoldsNoSecretAndARestoreBringsItBackIntoMappedFolders()
    {
        using var source = Client(_source);
        var export = await GrafanaExport.RunAsync(_repo.Context, source, null, force: false, CancellationToken.None);
        Assert.Equal((2, 3, 2), (export.Folders, export.Dashboards, export.Datasources));
        Assert.Equal(new[] { "Shop DB: password" }, export.SecretsLeftOut);
        var backup = export.Backup!;
        Assert.Equal(GrafanaExport.Kind, backup.Kind);

        // No secret anywhere in the backup's files.
        var files = Path.Join(_dir, "exported");
        await FileRestore.RunAsync(_repo.Context, backup, new FileRestoreOptions(files), CancellationToken.None);
        var everything = string.Join("\n", Directory.GetFiles(files, "*", SearchOption.AllDirectories).Select(File.ReadAllText));
        Assert.DoesNotContain(DbPassword, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(LegacyPassword, everything, StringComparison.Ordinal);
        Assert.Contains("\"basicAuthUser\": \"proxy\"", everything, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Join(files, "grafana/dashboards/ops/backups-dr.json")));

        // Unchanged: nothing written; a changed dashboard: a new backup.
        Assert.Null((await GrafanaExport.RunAsync(_repo.Context, source, null, false, CancellationToken.None)).Backup);
        var changed = Dashboard("checkout", "Checkout v2", 4);
        _source.AddDashboard(changed, "shop");
        Assert.NotNull((await GrafanaExport.RunAsync(_repo.Context, source, null, false, CancellationToken.None)).Backup);

        // Into an empty Grafana: the plan sends nothing; then the restore, "ops" mapped to "restored-ops".
        using var target = Client(_target);
        var map = new Dictionary<string, string> { ["ops"] = "restored-ops" };
        var plan = await GrafanaRestore.RunAsync(target, files, map, planOnly: true, CancellationToken.None);
        Assert.All(plan, c => Assert.Equal(GrafanaRestore.WouldCreate, c.Action));
        Assert.DoesNotContain(_target.Requests, r => r.Method != "GET");
        var done = await GrafanaRestore.RunAsync(target, files, map, planOnly: false, CancellationToken.None);
        Assert.Equal(2 + 3 + 2, done.Count);
        Assert.Equal("restored-ops", _target.FolderOf("backups-dr"));
        Assert.Equal("shop", _target.FolderOf("checkout"));
        Assert.Equal("", _target.FolderOf("home"));
        foreach (var uid in new[] { "backups-dr", "home" })
        {
            var original = _source.Dashboard(uid)!;
            var restored = _target.Dashboard(uid)!;
            Assert.Equal(original["panels"]!.ToJsonString(), restored["panels"]!.ToJsonString());
            Assert.Equal((string?)original["title"], (string?)restored["title"]);
        }

        Assert.Equal(new[] { "Prometheus", "Shop DB" }, _target.Datasources().Select(d => (string?)d["name"]).Order());
        Assert.Equal("secrets to re-enter from the vault: password", done.Single(c => c.Name == "Shop DB").Folder);
        Assert.False(_target.Secrets.ContainsKey("Shop DB")); // no secret came along

        // Again, over itself: dashboards overwritten (new version), datasources POSTed, refused as existing, then PUT.
        var again = await GrafanaRestore.RunAsync(target, files, map, planOnly: false, CancellationToken.None);
        Assert.All(again.Where(c => c.Kind != "Folder"), c => Assert.Equal(GrafanaRestore.Updated, c.Action));
        Assert.Equal(2, (int?)_target.Dashboard("home")!["version"]);
        var datasourceCalls = _target.Requests.Where(r => r.Path.StartsWith("api/datasources", StringComparison.Ordinal) && r.Method != "GET").Select(r => $"{r.Method} {r.Path}").ToList();
        Assert.Equal(new[] { "POST api/datasources", "POST api/datasources", "POST api/datasources", "PUT api/datasources/uid/prom", "POST api/datasources", "PUT api/datasources/uid/shopdb" }, datasourceCalls);
    }

    [Fact]
    public async Task AProvisioningFolderOfDashboardJsonLoadsIntoTheFoldersItNames()
    {
        var provisioning = Path.Join(_dir, "provisioning", "dashboards", "Shop");
        Directory.CreateDirectory(provisioning);
        File.WriteAllText(Path.Join(provisioning, "orders.json"), Dashboard("orders", "Orders", 2).ToJsonString());
        _target.AddFolder("shop-folder", "Shop");
        using var target = Client(_target);
        var changes = await GrafanaRestore.RunAsync(target, Path.Join(_dir, "provisioning"), new Dictionary<string, string> { ["Shop"] = "shop-folder" }, false, CancellationToken.None);
        Assert.Equal(("Dashboard", "Orders", GrafanaRestore.Created), (changes.Single().Kind, changes.Single().Name, changes.Single().Action));
        Assert.Equal("shop-folder", _target.FolderOf("orders"));
    }

    [Fact]
    public async Task AProvisioningFolderOfDatasourceYamlLoadsTypedWithItsVariables()
    {
        var folder = Directory.CreateDirectory(Path.Join(_dir, "provisioning", "datasources")).FullName;
        // As Grafana's provisioning docs write them: typed jsonData, $VAR and ${VAR}, $$ for a dollar, two documents.
        File.WriteAllText(Path.Join(folder, "shop.yaml"), """
            apiVersion: 1
            deleteDatasources:
              - name: Old
                orgId: 1
            datasources:
              - name: Shop DB
                type: mysql
                uid: shopdb
                orgId: 1
                url: ${DB_HOST}:3306
                user: grafana
                isDefault: false
                editable: true
                version: 3
                jsonData:
                  maxOpenConns: 10
                  connMaxLifetime: 14400
                  timeInterval: "15"
                  tlsSkipVerify: true
                  comment: 'costs $$5'
                secureJsonData:
                  password: $GF_SHOPDB_PASSWORD
              - name: Loki
                type: loki
                access: proxy
                url: http://loki:3100
                jsonData: { maxLines: 1000, derivedFields: [ { name: trace, matcherRegex: 'trace=(\w+)' } ] }
                secureJsonData:
                  httpHeaderValue1: ${GF_LOKI_TOKEN}
            ---
            apiVersion: 1
            datasources:
              - name: Prometheus
                type: prometheus
                url: http://prometheus:9090
                isDefault: true
            """);
        File.WriteAllText(Path.Join(folder, "notes.txt"), "not provisioning");
        var variables = new Dictionary<string, string> { ["DB_HOST"] = "db1.internal", ["GF_SHOPDB_PASSWORD"] = "pw-from-the-vault" };
        using var target = Client(_target);
        var changes = await GrafanaRestore.RunAsync(target, Path.Join(_dir, "provisioning"), null, false, CancellationToken.None, v => variables.GetValueOrDefault(v));

        Assert.Equal(["Loki", "Prometheus", "Shop DB"], changes.Select(c => c.Name).Order());
        Assert.All(changes, c => Assert.Equal(("Datasource", GrafanaRestore.Created), (c.Kind, c.Action)));
        Assert.Equal("secrets to re-enter from the vault: httpHeaderValue1", changes.Single(c => c.Name == "Loki").Folder);
        Assert.Equal("", changes.Single(c => c.Name == "Shop DB").Folder);
        var shop = _target.Datasources().Single(d => (string?)d["name"] == "Shop DB");
        Assert.Equal("db1.internal:3306", (string?)shop["url"]);
        Assert.Equal("""{"maxOpenConns":10,"connMaxLifetime":14400,"timeInterval":"15","tlsSkipVerify":true,"comment":"costs $5"}""", shop["jsonData"]!.ToJsonString());
        Assert.False(shop.ContainsKey("editable") || shop.ContainsKey("version"));
        Assert.Equal("pw-from-the-vault", (string?)_target.Secrets["Shop DB"]["password"]);
        Assert.False(_target.Secrets.ContainsKey("Loki")); // its variable is not set: left out, not sent empty
        var loki = _target.Datasources().Single(d => (string?)d["name"] == "Loki");
        Assert.Equal((1000, "trace", "trace=(\\w+)"), ((int)loki["jsonData"]!["maxLines"]!, (string?)loki["jsonData"]!["derivedFields"]![0]!["name"], (string?)loki["jsonData"]!["derivedFields"]![0]!["matcherRegex"]));
        Assert.Equal(JsonValueKind.True, _target.Datasources().Single(d => (string?)d["name"] == "Prometheus")["isDefault"]!.GetValueKind());
    }

    [Fact]
    public async Task AFileThatDoesNotParseChangesNothing()
    {
        var provisioning = Path.Join(_dir, "provisioning");
        Directory.CreateDirectory(Path.Join(provisioning, "dashboards"));
        Directory.CreateDirectory(Path.Join(provisioning, "datasources"));
        File.WriteAllText(Path.Join(provisioning, "dashboards", "orders.json"), Dashboard("orders", "Orders", 2).ToJsonString());
        File.WriteAllText(Path.Join(provisioning, "datasources", "broken.yaml"), "apiVersion: 1\ndatasources:\n  - name: [unclosed\n");
        using var target = Client(_target);
        var ex = await Assert.ThrowsAsync<EcomDrException>(() => GrafanaRestore.RunAsync(target, provisioning, null, false, CancellationToken.None));
        Assert.Equal((ErrorIds.DataInvalid, FailureKind.InvalidData), (ex.ErrorId, ex.Kind));
        Assert.Contains("broken.yaml is not valid YAML (line", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_target.Requests); // not even a GET: every file is read first
        Assert.Null(_target.Dashboard("orders"));

        File.WriteAllText(Path.Join(provisioning, "datasources", "broken.yaml"), "datasources:\n  - url: http://x\n");
        ex = await Assert.ThrowsAsync<EcomDrException>(() => GrafanaRestore.RunAsync(target, provisioning, null, false, CancellationToken.None));
        Assert.Contains("a datasource needs at least a name and a type", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_target.Requests);
    }

    [Fact]
    public async Task AWrongTokenIsAClearErrorWithoutTheToken()
    {
        using var wrong = Client(_source, "glsa_wrong_token_value_1234");
        var ex = await Assert.ThrowsAsync<EcomDrException>(() => GrafanaExport.RunAsync(_repo.Context, wrong, null, false, CancellationToken.None));
        Assert.Equal((ErrorIds.AuthenticationFailed, FailureKind.AuthenticationError), (ex.ErrorId, ex.Kind));
        Assert.DoesNotContain("glsa_wrong_token_value_1234", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.Exists(_repo.Store.Root) ? Directory.GetFiles(_repo.Store.Root, "manifest.json", SearchOption.AllDirectories) : []);
    }
}
