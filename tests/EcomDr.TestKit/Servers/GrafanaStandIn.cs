using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace EcomDr.TestKit.Servers;

/// <summary>
/// A stand-in for Grafana's HTTP API (no Grafana can be installed here), answering the endpoints EcomDr
/// uses as Grafana's API reference documents them: a Bearer token, else 401; GET /api/folders and
/// /api/folders/:uid, POST /api/folders (409 for a uid that exists); GET /api/search?type=dash-db,
/// GET /api/dashboards/uid/:uid ({dashboard, meta}), POST /api/dashboards/db (412 for an existing uid
/// without overwrite, 400 for an unknown folder; the version counts up); GET /api/datasources,
/// /api/datasources/name/:name and /uid/:uid, POST /api/datasources (409 for a name that exists),
/// PUT /api/datasources/uid/:uid. Datasource secrets (secureJsonData) are kept and never returned, only
/// secureJsonFields, as Grafana does. Errors are {"message"}.
/// </summary>
public sealed class GrafanaStandIn(int port) : HttpStandIn(port)
{
    public const string Token = "glsa_standin_0123456789abcdefABCDEF";
    private readonly object _gate = new();
    private readonly Dictionary<string, JsonObject> _folders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (JsonObject Dashboard, string FolderUid)> _dashboards = new(StringComparer.Ordinal);
    private readonly List<JsonObject> _datasources = new();
    private int _next = 100;

    /// <summary>Every request: method, path and query, body.</summary>
    public ConcurrentQueue<(string Method, string Path, string Body)> Requests { get; } = new();

    /// <summary>The secrets a datasource was given (what the API never returns), by datasource name.</summary>
    public ConcurrentDictionary<string, JsonObject> Secrets { get; } = new(StringComparer.Ordinal);

    public static GrafanaStandIn Start() => new(ServerProcess.FreePort());

    public void AddFolder(string uid, string title)
    {
        lock (_gate)
        {
            _folders[uid] = new JsonObject { ["id"] = ++_next, ["uid"] = uid, ["title"] = title };
        }
    }

    public void AddDashboard(JsonObject model, string folderUid = "")
    {
        lock (_gate)
        {
            var copy = model.DeepClone().AsObject();
            copy["id"] = ++_next;
            copy["version"] = 1;
            _dashboards[(string)copy["uid"]!] = (copy, folderUid);
        }
    }

    public void AddDatasource(JsonObject datasource) => Answer("POST", "api/datasources", datasource.ToJsonString());

    public JsonObject? Dashboard(string uid)
    {
        lock (_gate)
        {
            return _dashboards.TryGetValue(uid, out var d) ? d.Dashboard.DeepClone().AsObject() : null;
        }
    }

    public string? FolderOf(string uid)
    {
        lock (_gate)
        {
            return _dashboards.TryGetValue(uid, out var d) ? d.FolderUid : null;
        }
    }

    public IReadOnlyList<JsonObject> Datasources()
    {
        lock (_gate)
        {
            return _datasources.Select(d => d.DeepClone().AsObject()).ToList();
        }
    }

    protected override async Task AnswerAsync(HttpListenerContext context)
    {
        string body;
        using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync().ConfigureAwait(false);
        }

        var path = context.Request.Url!.PathAndQuery.TrimStart('/');
        Requests.Enqueue((context.Request.HttpMethod, path, body));
        var (status, answer) = context.Request.Headers["Authorization"] != $"Bearer {Token}"
            ? (401, new JsonObject { ["message"] = "Unauthorized" })
            : Answer(context.Request.HttpMethod, path, body);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var bytes = Encoding.UTF8.GetBytes(answer.ToJsonString());
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        context.Response.Close();
    }

    private (int, JsonNode) Answer(string method, string pathAndQuery, string body)
    {
        var path = Uri.UnescapeDataString(pathAndQuery.Split('?')[0]);
        lock (_gate)
        {
            switch (method, path)
            {
                case ("GET", "api/folders"):
                    return (200, new JsonArray(_folders.Values.Select(f => (JsonNode)f.DeepClone()).ToArray()));
                case ("GET", _) when path.StartsWith("api/folders/", StringComparison.Ordinal):
                    return _folders.TryGetValue(path["api/folders/".Length..], out var folder) ? (200, folder.DeepClone()) : (404, Message("folder not found"));
                case ("POST", "api/folders"):
                {
                    var request = JsonNode.Parse(body)!.AsObject();
                    var uid = (string?)request["uid"] ?? $"f{++_next}";
                    if (_folders.ContainsKey(uid))
                    {
                        return (409, Message("a folder with the same uid already exists"));
                    }

                    AddFolder(uid, (string?)request["title"] ?? uid);
                    return (200, _folders[uid].DeepClone());
                }

                case ("GET", "api/search"):
                    return (200, new JsonArray(_dashboards.Values.OrderBy(d => (string?)d.Dashboard["title"], StringComparer.Ordinal).Select(d => (JsonNode)new JsonObject
                    {
                        ["id"] = (int?)d.Dashboard["id"], ["uid"] = (string?)d.Dashboard["uid"], ["title"] = (string?)d.Dashboard["title"], ["type"] = "dash-db",
                        ["folderUid"] = d.FolderUid.Length == 0 ? null : d.FolderUid,
                        ["folderTitle"] = d.FolderUid.Length == 0 ? null : (string?)_folders.GetValueOrDefault(d.FolderUid)?["title"],
                    }).ToArray()));
                case ("GET", _) when path.StartsWith("api/dashboards/uid/", StringComparison.Ordinal):
                {
                    if (!_dashboards.TryGetValue(path["api/dashboards/uid/".Length..], out var found))
                    {
                        return (404, Message("Dashboard not found"));
                    }

                    return (200, new JsonObject
                    {
                        ["dashboard"] = found.Dashboard.DeepClone(),
                        ["meta"] = new JsonObject
                        {
                            ["folderUid"] = found.FolderUid,
                            ["folderTitle"] = found.FolderUid.Length == 0 ? "General" : (string?)_folders.GetValueOrDefault(found.FolderUid)?["title"],
                            ["canSave"] = true,
                        },
                    });
                }

                case ("POST", "api/dashboards/db"):
                {
                    var request = JsonNode.Parse(body)!.AsObject();
                    var model = request["dashboard"]!.DeepClone().AsObject();
                    var uid = (string?)model["uid"] ?? $"d{++_next}";
                    var folderUid = (string?)request["folderUid"] ?? "";
                    if (folderUid.Length > 0 && !_folders.ContainsKey(folderUid))
                    {
                        return (400, Message("folder not found"));
                    }

                    var exists = _dashboards.TryGetValue(uid, out var old);
                    if (exists && (bool?)request["overwrite"] != true)
                    {
                        return (412, new JsonObject { ["message"] = "A dashboard with the same uid already exists", ["status"] = "name-exists" });
                    }

                    model["uid"] = uid;
                    model["id"] = exists ? (int?)old.Dashboard["id"] : ++_next;
                    model["version"] = exists ? ((int?)old.Dashboard["version"] ?? 0) + 1 : 1;
                    _dashboards[uid] = (model, folderUid);
                    return (200, new JsonObject { ["id"] = (int?)model["id"], ["uid"] = uid, ["status"] = "success", ["version"] = (int?)model["version"], ["url"] = $"/d/{uid}" });
                }

                case ("GET", "api/datasources"):
                    return (200, new JsonArray(_datasources.Select(d => (JsonNode)d.DeepClone()).ToArray()));
                case ("GET", _) when path.StartsWith("api/datasources/name/", StringComparison.Ordinal):
                    return Find(d => (string?)d["name"] == path["api/datasources/name/".Length..]);
                case ("GET", _) when path.StartsWith("api/datasources/uid/", StringComparison.Ordinal):
                    return Find(d => (string?)d["uid"] == path["api/datasources/uid/".Length..]);
                case ("POST", "api/datasources"):
                {
                    var request = JsonNode.Parse(body)!.AsObject();
                    var name = (string?)request["name"] ?? "";
                    if (_datasources.Any(d => (string?)d["name"] == name))
                    {
                        return (409, Message("data source with the same name already exists"));
                    }

                    var stored = Stored(request, ++_next, (string?)request["uid"] ?? $"ds{_next}");
                    _datasources.Add(stored);
                    return (200, new JsonObject { ["datasource"] = stored.DeepClone(), ["id"] = (int?)stored["id"], ["message"] = "Datasource added", ["name"] = name });
                }

                case ("PUT", _) when path.StartsWith("api/datasources/uid/", StringComparison.Ordinal):
                {
                    var uid = path["api/datasources/uid/".Length..];
                    var index = _datasources.FindIndex(d => (string?)d["uid"] == uid);
                    if (index < 0)
                    {
                        return (404, Message("Data source not found"));
                    }

                    var request = JsonNode.Parse(body)!.AsObject();
                    var stored = Stored(request, (int)_datasources[index]["id"]!, uid);
                    _datasources[index] = stored;
                    return (200, new JsonObject { ["datasource"] = stored.DeepClone(), ["id"] = (int?)stored["id"], ["message"] = "Datasource updated", ["name"] = (string?)stored["name"] });
                }

                default:
                    return (404, Message("Not found"));
            }
        }
    }

    private (int, JsonNode) Find(Func<JsonObject, bool> match) =>
        _datasources.FirstOrDefault(match) is { } found ? (200, found.DeepClone()) : (404, Message("Data source not found"));

    /// <summary>What Grafana keeps and returns: the fields, never secureJsonData, whose keys become secureJsonFields.</summary>
    private JsonObject Stored(JsonObject request, int id, string uid)
    {
        var stored = request.DeepClone().AsObject();
        stored["id"] = id;
        stored["uid"] = uid;
        stored["orgId"] = 1;
        var fields = new JsonObject();
        if (stored["secureJsonData"] is JsonObject secure)
        {
            Secrets[(string?)stored["name"] ?? ""] = secure.DeepClone().AsObject();
            foreach (var key in secure.Select(p => p.Key))
            {
                fields[key] = true;
            }
        }

        stored.Remove("secureJsonData");
        stored["secureJsonFields"] = fields;
        return stored;
    }

    private static JsonObject Message(string text) => new() { ["message"] = text };
}
