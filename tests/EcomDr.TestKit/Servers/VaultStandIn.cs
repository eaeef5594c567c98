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
/// answers. Mounts are declared (secret/ is one from the start) and described by the CLI's preflight
/// GET sys/internal/ui/mounts/&lt;path&gt;, which answers 403 for an unknown mount as Vault does; any
/// other request outside a mount is 403 too, as a non-root token sees it. Tokens: the fixed
/// <see cref="Token"/> and those issued by <see cref="IssueToken"/> or an AppRole login (POST
/// auth/approle/login); auth/token/lookup-self and renew-self answer for them, and an unknown token
/// gets 403 "permission denied". LIST pages with OpenBao's after/limit when <see cref="Paginates"/>,
/// and ignores both as Vault does otherwise. Faults are injected per path: a number of 429 answers,
/// or 403 for a path prefix. Transit mounts answer as VaultStandIn.Transit.cs describes.
/// </summary>
public sealed partial class VaultStandIn : IAsyncDisposable
{
    public const string Token = "hvs.stand-in-token-0123456789";

    private readonly HttpListener _listener = new();
    private readonly Task _serving;
    private readonly object _gate = new();
    private readonly Dictionary<string, SecretState> _secrets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _throttled = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<string> _forbidden = new();
    private readonly ConcurrentDictionary<string, (string Type, string Version)> _mounts = new(StringComparer.Ordinal) { ["secret"] = ("kv", "2") };
    private readonly ConcurrentDictionary<string, TokenState> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _appRoles = new(StringComparer.Ordinal);

    private VaultStandIn(int port)
    {
        Address = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Address.ToString());
        _listener.Start();
        _tokens[Token] = new TokenState(["default", "ecomdr"], TimeSpan.FromHours(1), Renewable: true, DateTimeOffset.UtcNow);
        _serving = Task.Run(ServeAsync);
    }

    /// <summary>Answer LIST with OpenBao's pages (after/limit); off, limit and after are ignored as Vault does.</summary>
    public bool Paginates { get; set; }

    /// <summary>Declares a mount: a KV v2 one by default, or another engine type or KV version.</summary>
    public void AddMount(string mount, string type = "kv", string version = "2") => _mounts[mount] = (type, version);

    /// <summary>A new token with these policies and TTL (what a login gives); returns it.</summary>
    public string IssueToken(TimeSpan ttl, bool renewable = true, params string[] policies)
    {
        var token = "hvs.issued-" + Guid.NewGuid().ToString("N");
        _tokens[token] = new TokenState(policies.Length == 0 ? ["default"] : policies, ttl, renewable, DateTimeOffset.UtcNow);
        return token;
    }

    /// <summary>The TTL left to a token (renewals reset it to its creation TTL).</summary>
    public TimeSpan TtlOf(string token) => _tokens[token].Left;

    /// <summary>An AppRole role id and the secret id that logs it in.</summary>
    public void AddAppRole(string roleId, string secretId) => _appRoles[roleId] = secretId;

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

    /// <summary>
    /// A digest of what a re-injection must carry over, for every secret of a mount: its path, its
    /// current data (fields in name order), its custom_metadata and settings. Version numbers and
    /// times are left out: KV numbers every write anew.
    /// </summary>
    public string ContentDigest(string mount)
    {
        lock (_gate)
        {
            var text = new StringBuilder();
            foreach (var (key, state) in _secrets.Where(s => s.Key.StartsWith(mount + "/", StringComparison.Ordinal)).OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                var current = state.Versions.LastOrDefault(v => v.Data is not null && v.Deleted is null);
                text.Append(key).Append('\n').Append(current?.Data is { } data ? string.Join(",", data.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => $"{d.Key}={d.Value?.ToJsonString()}")) : "-")
                    .Append('\n').Append(string.Join(",", (state.Custom ?? new()).OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}")))
                    .Append('\n').Append($"{state.MaxVersions}/{state.CasRequired}/{state.DeleteAfter}\n");
            }

            return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
        }
    }

    /// <summary>How many versions a secret has (0: none), to see that a restore wrote exactly one.</summary>
    public int VersionCount(string mount, string path)
    {
        lock (_gate)
        {
            return State(mount, path, create: false)?.Versions.Count ?? 0;
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
        if (rest.StartsWith("auth/approle/login", StringComparison.Ordinal) && method == "POST")
        {
            return AppRoleLogin(body);
        }

        if (token is null || !_tokens.TryGetValue(token, out var session) || session.Left <= TimeSpan.Zero || _forbidden.Any(f => rest.StartsWith(f, StringComparison.Ordinal)))
        {
            return (403, Errors("permission denied"));
        }

        switch (rest)
        {
            case "auth/token/lookup-self" when method == "GET":
                return (200, new JsonObject { ["data"] = session.Lookup() }.ToJsonString());
            case "auth/token/renew-self" when method == "POST":
                if (!session.Renewable)
                {
                    return (400, Errors("lease is not renewable"));
                }

                _tokens[token] = session with { Issued = DateTimeOffset.UtcNow };
                return (200, new JsonObject { ["auth"] = new JsonObject { ["client_token"] = token, ["lease_duration"] = (long)session.Ttl.TotalSeconds, ["renewable"] = true } }.ToJsonString());
        }

        if (rest.StartsWith("sys/internal/ui/mounts/", StringComparison.Ordinal))
        {
            var wanted = rest["sys/internal/ui/mounts/".Length..].Trim('/');
            var match = _mounts.Keys.Where(m => wanted == m || wanted.StartsWith(m + "/", StringComparison.Ordinal)).MaxBy(m => m.Length);
            if (match is null)
            {
                return (403, Errors($"preflight capability check returned 403, please ensure client's policies grant access to path \"{wanted}/\""));
            }

            var (type, version) = _mounts[match];
            return (200, new JsonObject
            {
                ["data"] = new JsonObject { ["type"] = type, ["path"] = match + "/", ["options"] = type == "kv" ? new JsonObject { ["version"] = version } : null },
            }.ToJsonString());
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
        if (!_mounts.ContainsKey(mount))
        {
            return (403, Errors("permission denied"));
        }

        if (_mounts[mount].Type == "transit")
        {
            return AnswerTransit(method, mount, operation, secret, body);
        }

        var list = method == "LIST" || (method == "GET" && query["list"] == "true");
        lock (_gate)
        {
            return (operation, method) switch
            {
                ("metadata", _) when list => List(mount, secret, Paginates ? query["after"] : null, Paginates && int.TryParse(query["limit"], out var limit) ? limit : 0),
                ("metadata", "GET") => Metadata(mount, secret),
                ("metadata", "POST") => WriteMetadata(mount, secret, body),
                ("data", "GET") => Read(mount, secret, query["version"]),
                ("data", "POST") => Write(mount, secret, body),
                ("delete" or "destroy", "POST") => Mark(mount, secret, operation, body),
                _ => (405, Errors("unsupported operation")),
            };
        }
    }

    private (int, string?) List(string mount, string folder, string? after, int limit)
    {
        var prefix = folder.Trim('/').Length == 0 ? $"{mount}/" : $"{mount}/{folder.Trim('/')}/";
        var keys = _secrets.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => k[prefix.Length..]).Select(k => k.Contains('/') ? k[..(k.IndexOf('/') + 1)] : k)
            .Distinct().Order(StringComparer.Ordinal).ToList();
        if (keys.Count > 0 && (after is not null || limit > 0))
        {
            keys = keys.Where(k => after is null || string.CompareOrdinal(k, after) > 0).Take(limit > 0 ? limit : int.MaxValue).ToList();
            if (keys.Count == 0)
            {
                return (200, new JsonObject { ["data"] = new JsonObject { ["keys"] = new JsonArray() } }.ToJsonString());
            }
        }

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

    private (int, string?) AppRoleLogin(string body)
    {
        var request = JsonNode.Parse(body)!.AsObject();
        var (roleId, secretId) = ((string?)request["role_id"], (string?)request["secret_id"]);
        if (roleId is null || secretId is null || !_appRoles.TryGetValue(roleId, out var expected) || expected != secretId)
        {
            return (400, Errors("invalid role or secret ID"));
        }

        var token = IssueToken(TimeSpan.FromMinutes(20), true, "default", "approle-ecomdr");
        return (200, new JsonObject { ["auth"] = new JsonObject { ["client_token"] = token, ["lease_duration"] = 1200, ["renewable"] = true, ["policies"] = new JsonArray("default", "approle-ecomdr") } }.ToJsonString());
    }

    private static string Errors(params string[] errors) => JsonSerializer.Serialize(new { errors });

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private sealed record TokenState(string[] Policies, TimeSpan Ttl, bool Renewable, DateTimeOffset Issued)
    {
        public TimeSpan Left => Ttl - (DateTimeOffset.UtcNow - Issued);

        public JsonObject Lookup() => new()
        {
            ["display_name"] = "token-stand-in",
            ["policies"] = new JsonArray(Policies.Select(p => (JsonNode)p).ToArray()),
            ["ttl"] = (long)Math.Max(0, Left.TotalSeconds),
            ["creation_ttl"] = (long)Ttl.TotalSeconds,
            ["renewable"] = Renewable,
            ["expire_time"] = Time(Issued + Ttl),
        };
    }

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
