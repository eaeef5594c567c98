using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EcomDr.TestKit.Servers;

/// <summary>
/// A stand-in for Vault's KV version 2 HTTP API (no Vault server can be installed here), answering
/// exactly as the API documentation says for the requests EcomDr makes: LIST and GET on
/// metadata/, GET data/?version=, POST data/ with options.cas, POST metadata/, POST delete/ and
/// destroy/. A deleted or destroyed version reads as 404 with its metadata in the body, as Vault
/// answers. Any mount name is a KV v2 mount; a wrong token gets 403 "permission denied". Faults are
/// injected per path: a number of 429 answers, or 403 for a path prefix.
/// </summary>
public sealed class VaultStandIn : IAsyncDisposable
{
    public const string Token = "hvs.stand-in-token-0123456789";

    private readonly HttpListener _listener = new();
    private readonly Task _serving;
    private readonly object _gate = new();
    private readonly Dictionary<string, SecretState> _secrets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _throttled = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<string> _forbidden = new();

    private VaultStandIn(int port)
    {
        Address = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Address.ToString());
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public Uri Address { get; }

    /// <summary>Every request seen, as "METHOD /v1/path?query" (no token, no body).</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public static VaultStandIn Start() => new(ServerProcess.FreePort());

    /// <summary>The next <paramref name="times"/> requests for <paramref name="path"/> (without /v1/) answer 429.</summary>
    public void Throttle(string path, int times) => _throttled[path] = times;

    /// <summary>Every request under <paramref name="prefix"/> (without /v1/) answers 403.</summary>
    public void Forbid(string prefix) => _forbidden.Add(prefix);

    /// <summary>Writes a version as a client would (no cas), returning its number.</summary>
    public int Put(string mount, string path, IReadOnlyDictionary<string, string> data)
    {
        lock (_gate)
        {
            return State(mount, path, create: true)!.Add(new JsonObject(data.Select(d => KeyValuePair.Create(d.Key, (JsonNode?)d.Value))));
        }
    }

    public void SetMetadata(string mount, string path, IReadOnlyDictionary<string, string> custom, int maxVersions = 0, bool casRequired = false, string deleteAfter = "0s")
    {
        lock (_gate)
        {
            var state = State(mount, path, create: true)!;
            (state.Custom, state.MaxVersions, state.CasRequired, state.DeleteAfter) = (new Dictionary<string, string>(custom), maxVersions, casRequired, deleteAfter);
        }
    }

    public void Delete(string mount, string path, int version)
    {
        lock (_gate)
        {
            State(mount, path, create: false)!.Versions[version - 1].Deleted = DateTimeOffset.UtcNow;
        }
    }

    public void Destroy(string mount, string path, int version)
    {
        lock (_gate)
        {
            var v = State(mount, path, create: false)!.Versions[version - 1];
            (v.Destroyed, v.Data) = (true, null);
        }
    }

    /// <summary>The current data of a secret, or null (what a test compares after a restore).</summary>
    public IReadOnlyDictionary<string, string>? Current(string mount, string path)
    {
        lock (_gate)
        {
            var state = State(mount, path, create: false);
            var current = state?.Versions.LastOrDefault();
            return current?.Data?.ToDictionary(d => d.Key, d => (string)d.Value!);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Close();
        try
        {
            await _serving.ConfigureAwait(false);
        }
        catch (Exception)
        {
        }
    }

    private SecretState? State(string mount, string path, bool create)
    {
        var key = $"{mount}/{path.Trim('/')}";
        if (!_secrets.TryGetValue(key, out var state) && create)
        {
            _secrets[key] = state = new SecretState(DateTimeOffset.UtcNow);
        }

        return state;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                return;
            }

            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var path = Uri.UnescapeDataString(request.Url!.AbsolutePath);
        Requests.Enqueue($"{request.HttpMethod} {request.Url.PathAndQuery}");
        string body;
        using (var reader = new StreamReader(request.InputStream, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync().ConfigureAwait(false);
        }

        var (status, answer) = Answer(request.HttpMethod, path, request.QueryString, request.Headers["X-Vault-Token"], body);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var bytes = Encoding.UTF8.GetBytes(answer ?? "");
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        context.Response.Close();
    }

    private (int Status, string? Body) Answer(string method, string path, System.Collections.Specialized.NameValueCollection query, string? token, string body)
    {
        if (!path.StartsWith("/v1/", StringComparison.Ordinal))
        {
            return (404, Errors());
        }

        var rest = path[4..];
        if (token != Token || _forbidden.Any(f => rest.StartsWith(f, StringComparison.Ordinal)))
        {
            return (403, Errors("permission denied"));
        }

        if (_throttled.TryGetValue(rest, out var left) && left > 0)
        {
            _throttled[rest] = left - 1;
            return (429, Errors("rate limit quota exceeded"));
        }

        var parts = rest.Split('/', 3);
        if (parts.Length < 2)
        {
            return (404, Errors());
        }

        var (mount, operation, secret) = (parts[0], parts[1], parts.Length > 2 ? parts[2] : "");
        var list = method == "LIST" || (method == "GET" && query["list"] == "true");
        lock (_gate)
        {
            return (operation, method) switch
            {
                ("metadata", _) when list => List(mount, secret),
                ("metadata", "GET") => Metadata(mount, secret),
                ("metadata", "POST") => WriteMetadata(mount, secret, body),
                ("data", "GET") => Read(mount, secret, query["version"]),
                ("data", "POST") => Write(mount, secret, body),
                ("delete" or "destroy", "POST") => Mark(mount, secret, operation, body),
                _ => (405, Errors("unsupported operation")),
            };
        }
    }

    private (int, string?) List(string mount, string folder)
    {
        var prefix = folder.Trim('/').Length == 0 ? $"{mount}/" : $"{mount}/{folder.Trim('/')}/";
        var keys = _secrets.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => k[prefix.Length..]).Select(k => k.Contains('/') ? k[..(k.IndexOf('/') + 1)] : k)
            .Distinct().Order(StringComparer.Ordinal).ToList();
        return keys.Count == 0 ? (404, Errors()) : (200, new JsonObject { ["data"] = new JsonObject { ["keys"] = new JsonArray(keys.Select(k => (JsonNode)k).ToArray()) } }.ToJsonString());
    }

    private (int, string?) Metadata(string mount, string path)
    {
        if (State(mount, path, create: false) is not { } state)
        {
            return (404, Errors());
        }

        var versions = new JsonObject();
        for (var i = 0; i < state.Versions.Count; i++)
        {
            versions[(i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)] = state.Versions[i].Metadata(withVersion: null);
        }

        return (200, new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["cas_required"] = state.CasRequired,
                ["created_time"] = Time(state.Created),
                ["current_version"] = state.Versions.Count,
                ["custom_metadata"] = state.Custom is null ? null : new JsonObject(state.Custom.Select(c => KeyValuePair.Create(c.Key, (JsonNode?)c.Value))),
                ["delete_version_after"] = state.DeleteAfter,
                ["max_versions"] = state.MaxVersions,
                ["oldest_version"] = 0,
                ["updated_time"] = Time(state.Versions.Count > 0 ? state.Versions[^1].Created : state.Created),
                ["versions"] = versions,
            },
        }.ToJsonString());
    }

    private (int, string?) Read(string mount, string path, string? version)
    {
        if (State(mount, path, create: false) is not { Versions.Count: > 0 } state)
        {
            return (404, Errors());
        }

        var n = version is null || version == "0" ? state.Versions.Count : int.Parse(version, System.Globalization.CultureInfo.InvariantCulture);
        if (n < 1 || n > state.Versions.Count)
        {
            return (404, Errors());
        }

        var v = state.Versions[n - 1];
        var metadata = v.Metadata(withVersion: n);
        metadata["custom_metadata"] = state.Custom is null ? null : new JsonObject(state.Custom.Select(c => KeyValuePair.Create(c.Key, (JsonNode?)c.Value)));
        var gone = v.Destroyed || v.Deleted is not null;
        // As Vault does: a deleted or destroyed version is 404 with its metadata and null data.
        return (gone ? 404 : 200, new JsonObject { ["data"] = new JsonObject { ["data"] = gone ? null : v.Data!.DeepClone(), ["metadata"] = metadata } }.ToJsonString());
    }

    private (int, string?) Write(string mount, string path, string body)
    {
        var request = JsonNode.Parse(body)!.AsObject();
        var state = State(mount, path, create: false);
        var cas = request["options"]?["cas"]?.GetValue<int>();
        var current = state?.Versions.Count ?? 0;
        if ((state?.CasRequired ?? false) && cas is null)
        {
            return (400, Errors("check-and-set parameter required for this call"));
        }

        if (cas is { } expected && expected != current)
        {
            return (400, Errors("check-and-set parameter did not match the current version"));
        }

        state ??= State(mount, path, create: true)!;
        var n = state.Add(request["data"]!.AsObject().DeepClone().AsObject());
        return (200, new JsonObject { ["data"] = state.Versions[n - 1].Metadata(withVersion: n) }.ToJsonString());
    }

    private (int, string?) WriteMetadata(string mount, string path, string body)
    {
        var request = JsonNode.Parse(body)!.AsObject();
        var state = State(mount, path, create: true)!;
        state.MaxVersions = request["max_versions"]?.GetValue<int>() ?? state.MaxVersions;
        state.CasRequired = request["cas_required"]?.GetValue<bool>() ?? state.CasRequired;
        state.DeleteAfter = request["delete_version_after"]?.GetValue<string>() ?? state.DeleteAfter;
        if (request["custom_metadata"] is JsonObject custom)
        {
            state.Custom = custom.ToDictionary(c => c.Key, c => (string)c.Value!, StringComparer.Ordinal);
        }

        return (204, null);
    }

    private (int, string?) Mark(string mount, string path, string operation, string body)
    {
        if (State(mount, path, create: false) is not { } state)
        {
            return (404, Errors());
        }

        foreach (var n in JsonNode.Parse(body)!["versions"]!.AsArray().Select(v => v!.GetValue<int>()))
        {
            if (operation == "delete")
            {
                state.Versions[n - 1].Deleted ??= DateTimeOffset.UtcNow;
            }
            else
            {
                (state.Versions[n - 1].Destroyed, state.Versions[n - 1].Data) = (true, null);
            }
        }

        return (204, null);
    }

    private static string Errors(params string[] errors) => JsonSerializer.Serialize(new { errors });

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private sealed class SecretState(DateTimeOffset created)
    {
        public DateTimeOffset Created { get; } = created;

        public List<VersionState> Versions { get; } = new();

        public Dictionary<string, string>? Custom { get; set; }

        public int MaxVersions { get; set; }

        public bool CasRequired { get; set; }

        public string DeleteAfter { get; set; } = "0s";

        public int Add(JsonObject data)
        {
            Versions.Add(new VersionState(DateTimeOffset.UtcNow) { Data = data });
            return Versions.Count;
        }
    }

    private sealed class VersionState(DateTimeOffset created)
    {
        public DateTimeOffset Created { get; } = created;

        public JsonObject? Data { get; set; }

        public DateTimeOffset? Deleted { get; set; }

        public bool Destroyed { get; set; }

        public JsonObject Metadata(int? withVersion)
        {
            var m = new JsonObject
            {
                ["created_time"] = Time(Created),
                ["deletion_time"] = Deleted is { } d ? Time(d) : "",
                ["destroyed"] = Destroyed,
            };
            if (withVersion is { } n)
            {
                m["version"] = n;
            }

            return m;
        }
    }
}
