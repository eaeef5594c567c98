using System.Text.Json;
using System.Text.Json.Nodes;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.Files;

namespace EcomDr.Engine.Sources.Grafana;

/// <summary>What an export took, and the datasource secret fields it left out (they live in the vault).</summary>
public sealed record GrafanaExportResult(BackupInfo? Backup, BackupInfo? Unchanged, int Folders, int Dashboards, int Datasources, IReadOnlyList<string> SecretsLeftOut);

/// <summary>
/// Export-GrafanaConfig's engine: folders (GET /api/folders), every dashboard (GET /api/search, then
/// /api/dashboards/uid/…) and every datasource (GET /api/datasources) written as JSON files, then backed
/// up as a "grafana" file backup (file set "grafana": skipped when nothing changed). Datasource secrets
/// are never exported: Grafana does not return secureJsonData, and the legacy password fields are removed;
/// which fields were set is reported, so that they are re-entered from the vault.
/// </summary>
public static class GrafanaExport
{
    public const string Kind = "grafana";
    private static readonly string[] SecretFields = ["secureJsonData", "password", "basicAuthPassword"];
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<GrafanaExportResult> RunAsync(RepositoryContext context, GrafanaClient grafana, IReadOnlyDictionary<string, string>? labels, bool force,
        CancellationToken ct)
    {
        var work = Directory.CreateTempSubdirectory("ecomdr-grafana-").FullName;
        try
        {
            var root = Directory.CreateDirectory(Path.Join(work, "grafana")).FullName;
            var folders = await grafana.GetAsync("api/folders?limit=1000", ct).ConfigureAwait(false) as JsonArray ?? [];
            await WriteAsync(Path.Join(root, "folders.json"), new JsonArray(folders.OfType<JsonObject>()
                .Select(f => (JsonNode)new JsonObject { ["uid"] = (string?)f["uid"], ["title"] = (string?)f["title"] }).ToArray()), ct).ConfigureAwait(false);

            var dashboards = 0;
            foreach (var hit in (await grafana.GetAsync("api/search?type=dash-db&limit=5000", ct).ConfigureAwait(false) as JsonArray ?? []).OfType<JsonObject>())
            {
                var uid = (string?)hit["uid"] ?? "";
                if (await grafana.GetAsync($"api/dashboards/uid/{Uri.EscapeDataString(uid)}", ct).ConfigureAwait(false) is not JsonObject full || full["dashboard"] is not JsonObject model)
                {
                    continue; // deleted meanwhile
                }

                model.Remove("id"); // the instance's own number: a restore gets a new one
                var folderUid = (string?)full["meta"]?["folderUid"] ?? "";
                var file = new JsonObject
                {
                    ["dashboard"] = model.DeepClone(),
                    ["folderUid"] = folderUid,
                    ["folderTitle"] = (string?)full["meta"]?["folderTitle"] ?? "General",
                };
                await WriteAsync(Path.Join(root, "dashboards", FileName(folderUid.Length == 0 ? "general" : folderUid), FileName(uid) + ".json"), file, ct).ConfigureAwait(false);
                dashboards++;
            }

            var secrets = new List<string>();
            var datasources = 0;
            foreach (var source in (await grafana.GetAsync("api/datasources", ct).ConfigureAwait(false) as JsonArray ?? []).OfType<JsonObject>())
            {
                var copy = (JsonObject)source.DeepClone();
                var name = (string?)copy["name"] ?? "";
                foreach (var field in SecretFields.Where(f => copy.ContainsKey(f)))
                {
                    copy.Remove(field);
                }

                foreach (var set in (copy["secureJsonFields"] as JsonObject ?? []).Where(f => (bool?)f.Value == true))
                {
                    secrets.Add($"{name}: {set.Key}");
                }

                copy.Remove("id");
                copy.Remove("orgId");
                await WriteAsync(Path.Join(root, "datasources", FileName((string?)copy["uid"] ?? name) + ".json"), copy, ct).ConfigureAwait(false);
                datasources++;
            }

            var result = await FileBackup.RunAsync(context, new FileBackupRequest(Kind, [root], Kind, Force: force, Labels: WithSource(labels, grafana)), null, ct).ConfigureAwait(false);
            return new GrafanaExportResult(result.Backup, result.Unchanged, folders.Count, dashboards, datasources, secrets);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static Dictionary<string, string> WithSource(IReadOnlyDictionary<string, string>? labels, GrafanaClient grafana)
    {
        var all = new Dictionary<string, string>(labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        all.TryAdd("grafana", grafana.Url.GetLeftPart(UriPartial.Authority));
        return all;
    }

    private static async Task WriteAsync(string path, JsonNode node, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, node.ToJsonString(Indented) + "\n", ct).ConfigureAwait(false);
    }

    /// <summary>A uid or name as one path segment (uids are letters, digits, '-' and '_'; names may hold anything).</summary>
    private static string FileName(string name)
    {
        var safe = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray()).Trim('.');
        return safe.Length == 0 ? "unnamed" : safe;
    }
}
