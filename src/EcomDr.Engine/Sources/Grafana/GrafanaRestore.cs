using System.Net;
using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Sources.Grafana;

/// <summary>One change a Grafana restore made (or, planning, would make).</summary>
public sealed record GrafanaChange(string Kind, string Name, string Uid, string Folder, string Action);

/// <summary>
/// Restore-GrafanaConfig's engine: loads folders, dashboards and datasources from a folder (an export's
/// files, or a restored provisioning folder of dashboard JSON) into a Grafana through its HTTP API:
/// POST /api/folders; POST /api/dashboards/db with overwrite, into the mapped folder; POST /api/datasources,
/// then PUT /api/datasources/uid/… when one of that name exists. Planning only asks what exists.
/// Datasource secrets are not in the files: a datasource that had some is reported, to be re-entered from the vault.
/// </summary>
public static class GrafanaRestore
{
    public const string Created = "Created";
    public const string Updated = "Updated";
    public const string WouldCreate = "WouldCreate";
    public const string WouldUpdate = "WouldUpdate";

    public static async Task<IReadOnlyList<GrafanaChange>> RunAsync(GrafanaClient grafana, string source, IReadOnlyDictionary<string, string>? folderMap, bool planOnly,
        CancellationToken ct)
    {
        if (!Directory.Exists(source))
        {
            throw new EcomDrException(ErrorIds.PathNotFound, FailureKind.ObjectNotFound, $"{source} does not exist: give an exported or provisioning folder. Nothing was changed.", source);
        }

        var root = Directory.Exists(Path.Join(source, "grafana")) ? Path.Join(source, "grafana") : source;
        var map = new Dictionary<string, string>(folderMap ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        var changes = new List<GrafanaChange>();

        // Folders first: dashboards go into them.
        var titles = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (File.Exists(Path.Join(root, "folders.json")) && JsonNode.Parse(await File.ReadAllTextAsync(Path.Join(root, "folders.json"), ct).ConfigureAwait(false)) is JsonArray folders)
        {
            foreach (var folder in folders.OfType<JsonObject>())
            {
                var uid = Mapped(map, (string?)folder["uid"] ?? "", (string?)folder["title"] ?? "");
                var title = (string?)folder["title"] ?? uid;
                titles[uid] = title;
                var exists = await grafana.GetAsync($"api/folders/{Uri.EscapeDataString(uid)}", ct).ConfigureAwait(false) is not null;
                if (!planOnly && !exists)
                {
                    await grafana.SendJsonAsync(HttpMethod.Post, "api/folders", new JsonObject { ["uid"] = uid, ["title"] = title }, ct).ConfigureAwait(false);
                }

                changes.Add(new GrafanaChange("Folder", title, uid, "", exists ? (planOnly ? WouldUpdate : "Kept") : planOnly ? WouldCreate : Created));
            }
        }

        var dashboards = Directory.Exists(Path.Join(root, "dashboards")) ? Path.Join(root, "dashboards") : root;
        foreach (var file in Directory.EnumerateFiles(dashboards, "*.json", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != "folders.json" && !IsUnder(root, "datasources", f))
            .Order(StringComparer.Ordinal))
        {
            if (JsonNode.Parse(await File.ReadAllTextAsync(file, ct).ConfigureAwait(false)) is not JsonObject json)
            {
                continue;
            }

            // An export's file holds {dashboard, folderUid}; a provisioning file is the model, its folder the directory.
            var model = (json["dashboard"] as JsonObject ?? json).DeepClone().AsObject();
            if (model["panels"] is null && model["rows"] is null && model["title"] is null)
            {
                continue; // not a dashboard
            }

            var uid = (string?)model["uid"] ?? "";
            var folderUid = json.ContainsKey("dashboard") ? (string?)json["folderUid"] ?? "" : "";
            var folderTitle = json.ContainsKey("dashboard") ? (string?)json["folderTitle"] ?? "" : (Path.GetDirectoryName(file) is { } d && d != dashboards ? Path.GetFileName(d) : "");
            var target = Mapped(map, folderUid, folderTitle);
            model["id"] = null;
            var exists = uid.Length > 0 && await grafana.GetAsync($"api/dashboards/uid/{Uri.EscapeDataString(uid)}", ct).ConfigureAwait(false) is not null;
            if (!planOnly)
            {
                await grafana.SendJsonAsync(HttpMethod.Post, "api/dashboards/db", new JsonObject
                {
                    ["dashboard"] = model,
                    ["folderUid"] = target.Length == 0 ? null : target,
                    ["overwrite"] = true,
                    ["message"] = "Restored by EcomDr (Restore-GrafanaConfig)",
                }, ct).ConfigureAwait(false);
            }

            changes.Add(new GrafanaChange("Dashboard", (string?)model["title"] ?? uid, uid, titles.GetValueOrDefault(target, target), Action(exists, planOnly)));
        }

        var datasources = Path.Join(root, "datasources");
        if (Directory.Exists(datasources))
        {
            foreach (var file in Directory.EnumerateFiles(datasources, "*.json").Order(StringComparer.Ordinal))
            {
                if (JsonNode.Parse(await File.ReadAllTextAsync(file, ct).ConfigureAwait(false)) is not JsonObject datasource)
                {
                    continue;
                }

                var name = (string?)datasource["name"] ?? "";
                var hadSecrets = (datasource["secureJsonFields"] as JsonObject ?? []).Any(f => (bool?)f.Value == true);
                var body = datasource.DeepClone().AsObject();
                body.Remove("secureJsonFields");
                body.Remove("id");
                var existing = await grafana.GetAsync($"api/datasources/name/{Uri.EscapeDataString(name)}", ct).ConfigureAwait(false);
                if (!planOnly)
                {
                    var (status, _) = await grafana.SendJsonAsync(HttpMethod.Post, "api/datasources", body, ct).ConfigureAwait(false);
                    if (status == HttpStatusCode.Conflict)
                    {
                        var found = await grafana.GetAsync($"api/datasources/name/{Uri.EscapeDataString(name)}", ct).ConfigureAwait(false)
                            ?? throw new EcomDrException(ErrorIds.GrafanaRequestFailed, FailureKind.InvalidOperation, $"Grafana said datasource '{name}' exists, and does not find it.", name);
                        body["uid"] = (string?)found["uid"];
                        await grafana.SendJsonAsync(HttpMethod.Put, $"api/datasources/uid/{Uri.EscapeDataString((string?)found["uid"] ?? "")}", body, ct).ConfigureAwait(false);
                    }
                }

                changes.Add(new GrafanaChange("Datasource", name, (string?)datasource["uid"] ?? "", hadSecrets ? "secrets to re-enter from the vault" : "", Action(existing is not null, planOnly)));
            }
        }

        return changes;
    }

    private static string Action(bool exists, bool planOnly) => (exists, planOnly) switch
    {
        (true, true) => WouldUpdate,
        (false, true) => WouldCreate,
        (true, false) => Updated,
        _ => Created,
    };

    private static string Mapped(Dictionary<string, string> map, string uid, string title) =>
        map.TryGetValue(uid, out var byUid) ? byUid : title.Length > 0 && map.TryGetValue(title, out var byTitle) ? byTitle : uid;

    private static bool IsUnder(string root, string folder, string file) =>
        Path.GetRelativePath(Path.Join(root, folder), file) is var relative && !relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative);
}
