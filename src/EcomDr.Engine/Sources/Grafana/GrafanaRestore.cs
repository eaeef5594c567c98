using System.Net;
using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Sources.Grafana;

/// <summary>One change a Grafana restore made (or, planning, would make).</summary>
public sealed record GrafanaChange(string Kind, string Name, string Uid, string Folder, string Action);

/// <summary>
/// Restore-GrafanaConfig's engine: loads folders, dashboards and datasources from a folder (an export's
/// files, or a restored provisioning folder: dashboard JSON, datasource YAML) into a Grafana through its HTTP API:
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
        CancellationToken ct, Func<string, string?>? variable = null)
    {
        if (!Directory.Exists(source))
        {
            throw new EcomDrException(ErrorIds.PathNotFound, FailureKind.ObjectNotFound, $"{source} does not exist: give an exported or provisioning folder. Nothing was changed.", source);
        }

        // Every file is read before anything is sent: a file that does not parse changes nothing.
        var root = Directory.Exists(Path.Join(source, "grafana")) ? Path.Join(source, "grafana") : source;
        var folders = await ReadFoldersAsync(root, ct).ConfigureAwait(false);
        var dashboards = await ReadDashboardsAsync(root, ct).ConfigureAwait(false);
        var datasources = await ReadDatasourcesAsync(root, variable ?? Environment.GetEnvironmentVariable, ct).ConfigureAwait(false);

        var map = new Dictionary<string, string>(folderMap ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        var changes = new List<GrafanaChange>();

        // Folders first: dashboards go into them.
        var titles = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var folder in folders)
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

        foreach (var (model, folderUid, folderTitle) in dashboards)
        {
            var uid = (string?)model["uid"] ?? "";
            var target = Mapped(map, folderUid, folderTitle);
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

        foreach (var (body, missingSecrets) in datasources)
        {
            var name = (string?)body["name"] ?? "";
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

            var note = missingSecrets.Count == 0 ? "" : $"secrets to re-enter from the vault: {string.Join(", ", missingSecrets)}";
            changes.Add(new GrafanaChange("Datasource", name, (string?)body["uid"] ?? "", note, Action(existing is not null, planOnly)));
        }

        return changes;
    }

    private static async Task<IReadOnlyList<JsonObject>> ReadFoldersAsync(string root, CancellationToken ct)
    {
        var file = Path.Join(root, "folders.json");
        return File.Exists(file) && await ParseAsync(file, ct).ConfigureAwait(false) is JsonArray folders ? folders.OfType<JsonObject>().ToList() : [];
    }

    /// <summary>Each dashboard model with the folder it was in: an export's file holds {dashboard, folderUid, folderTitle}; a provisioning file is the model, its folder the directory.</summary>
    private static async Task<IReadOnlyList<(JsonObject Model, string FolderUid, string FolderTitle)>> ReadDashboardsAsync(string root, CancellationToken ct)
    {
        var dashboards = Directory.Exists(Path.Join(root, "dashboards")) ? Path.Join(root, "dashboards") : root;
        var result = new List<(JsonObject, string, string)>();
        foreach (var file in Directory.EnumerateFiles(dashboards, "*.json", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != "folders.json" && !IsUnder(root, "datasources", f))
            .Order(StringComparer.Ordinal))
        {
            if (await ParseAsync(file, ct).ConfigureAwait(false) is not JsonObject json)
            {
                continue;
            }

            var model = (json["dashboard"] as JsonObject ?? json).DeepClone().AsObject();
            if (model["panels"] is null && model["rows"] is null && model["title"] is null)
            {
                continue; // not a dashboard
            }

            model["id"] = null;
            var exported = json.ContainsKey("dashboard");
            result.Add((model, exported ? (string?)json["folderUid"] ?? "" : "",
                exported ? (string?)json["folderTitle"] ?? "" : (Path.GetDirectoryName(file) is { } d && d != dashboards ? Path.GetFileName(d) : "")));
        }

        return result;
    }

    /// <summary>An export's datasources/*.json (secrets never in them), and provisioning files datasources/*.yaml.</summary>
    private static async Task<IReadOnlyList<ProvisionedDatasource>> ReadDatasourcesAsync(string root, Func<string, string?> variable, CancellationToken ct)
    {
        var folder = Path.Join(root, "datasources");
        var result = new List<ProvisionedDatasource>();
        if (!Directory.Exists(folder))
        {
            return result;
        }

        foreach (var file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
        {
            switch (Path.GetExtension(file).ToLowerInvariant())
            {
                case ".json" when await ParseAsync(file, ct).ConfigureAwait(false) is JsonObject datasource:
                    var secrets = (datasource["secureJsonFields"] as JsonObject ?? []).Where(f => (bool?)f.Value == true).Select(f => f.Key).ToList();
                    var body = datasource.DeepClone().AsObject();
                    body.Remove("secureJsonFields");
                    body.Remove("id");
                    result.Add(new ProvisionedDatasource(body, secrets));
                    break;
                case ".yaml" or ".yml":
                    result.AddRange(GrafanaProvisioning.ReadDatasources(file, variable));
                    break;
            }
        }

        return result;
    }

    private static async Task<JsonNode?> ParseAsync(string file, CancellationToken ct)
    {
        try
        {
            return JsonNode.Parse(await File.ReadAllTextAsync(file, ct).ConfigureAwait(false));
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new EcomDrException(ErrorIds.DataInvalid, FailureKind.InvalidData, $"{file} is not valid JSON: {ex.Message} Nothing was changed.", file, ex);
        }
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
