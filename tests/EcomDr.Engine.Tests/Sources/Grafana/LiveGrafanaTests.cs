using EcomDr.Engine.Credentials;
using EcomDr.Engine.Sources.Grafana;
using EcomDr.Engine.Tests.Pipeline.Repository;

namespace EcomDr.Engine.Tests.Sources.Grafana;

/// <summary>
/// Opt-in: export from a live Grafana and load one of its dashboards back under a new uid in a scratch
/// folder, when GRAFANA_URL and GRAFANA_TOKEN are set (a service account token with Editor). No Grafana
/// runs here, so this is skipped visibly in CI (docs/testing.md). The scratch folder is left for the admin to delete.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class LiveGrafanaTests
{
    [SkippableFact]
    public async Task Live_Grafana_ExportThenLoadADashboardIntoAScratchFolder()
    {
        var url = Environment.GetEnvironmentVariable("GRAFANA_URL");
        var token = Environment.GetEnvironmentVariable("GRAFANA_TOKEN");
        Skip.If(string.IsNullOrEmpty(url) || string.IsNullOrEmpty(token), "GRAFANA_URL and GRAFANA_TOKEN are not set: no live Grafana to test against");
        using var repo = new RepoFixture();
        using var grafana = new GrafanaClient(new Uri(url!), new Secret(token!));
        var export = await GrafanaExport.RunAsync(repo.Context, grafana, null, force: true, CancellationToken.None);
        Assert.NotNull(export.Backup);

        // One dashboard, under a new uid, into a new folder: nothing of the instance is overwritten.
        var work = Directory.CreateTempSubdirectory("ecomdr-live-grafana-").FullName;
        try
        {
            var folder = Directory.CreateDirectory(Path.Join(work, "dashboards", "ecomdr-live-test")).FullName;
            var stamp = DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
            var model = new System.Text.Json.Nodes.JsonObject { ["uid"] = $"ecomdr-live-{stamp}", ["title"] = $"EcomDr live test {stamp}", ["panels"] = new System.Text.Json.Nodes.JsonArray() };
            await File.WriteAllTextAsync(Path.Join(folder, "live.json"), model.ToJsonString());
            await File.WriteAllTextAsync(Path.Join(work, "folders.json"), $$"""[{ "uid": "ecomdr-live-test", "title": "EcomDr live test" }]""");
            var changes = await GrafanaRestore.RunAsync(grafana, work, new Dictionary<string, string> { ["ecomdr-live-test"] = "ecomdr-live-test" }, false, CancellationToken.None);
            Assert.Contains(changes, c => c.Kind == "Dashboard" && c.Action == GrafanaRestore.Created);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
