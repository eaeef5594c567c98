using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace EcomDr.TestKit.Servers;

/// <summary>One line a LokiStandIn stream holds, with the stream's labels.</summary>
public sealed record LokiStoredEntry(IReadOnlyDictionary<string, string> Labels, long Ns, string Line);

/// <summary>
/// A stand-in for Loki's HTTP API (no Loki can be installed here), answering as Loki's HTTP API reference
/// documents it, in multi-tenant mode (auth_enabled): without X-Scope-OrgID a request gets 401 "no org id".
/// POST /loki/api/v1/push takes the JSON body ({"streams":[{"stream":{labels},"values":[["ns","line"]]}]})
/// and answers 204; an entry with the same stream, time and line as one stored is a duplicate and dropped,
/// as Loki does. GET /loki/api/v1/query_range takes a stream selector of equality matchers, start
/// (inclusive) and end (exclusive) in nanoseconds, limit (default 100) and direction (default backward),
/// and answers {"status":"success","data":{"resultType":"streams","result":[{"stream","values"}]}} with at
/// most limit entries over all streams. Anything else in the query is a 400, as Loki answers a parse error.
/// </summary>
public sealed partial class LokiStandIn(int port) : HttpStandIn(port)
{
    private readonly object _gate = new();
    private readonly Dictionary<(string Tenant, string Stream), (Dictionary<string, string> Labels, SortedSet<(long Ns, string Line)> Values)> _streams = new();

    /// <summary>Every request: method, path and query, tenant header, Authorization header, body.</summary>
    public ConcurrentQueue<(string Method, string Path, string? Tenant, string? Authorization, string Body)> Requests { get; } = new();

    /// <summary>While set, pushes answer 503 (an ingester that is down) and store nothing.</summary>
    public bool FailPushes { get; set; }

    public static LokiStandIn Start() => new(ServerProcess.FreePort());

    /// <summary>The lines a tenant's streams hold, in time order.</summary>
    public IReadOnlyList<LokiStoredEntry> Entries(string tenant)
    {
        lock (_gate)
        {
            return _streams.Where(s => s.Key.Tenant == tenant)
                .SelectMany(s => s.Value.Values.Select(v => new LokiStoredEntry(s.Value.Labels, v.Ns, v.Line)))
                .OrderBy(e => e.Ns).ToList();
        }
    }

    /// <summary>Replaces a stored line (what someone with write access to Loki's storage could do).</summary>
    public void Replace(string tenant, string oldLine, string newLine)
    {
        lock (_gate)
        {
            foreach (var (key, stream) in _streams.Where(s => s.Key.Tenant == tenant).ToList())
            {
                foreach (var value in stream.Values.Where(v => v.Line == oldLine).ToList())
                {
                    stream.Values.Remove(value);
                    stream.Values.Add((value.Ns, newLine));
                }
            }
        }
    }

    protected override async Task AnswerAsync(HttpListenerContext context)
    {
        string body;
        using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync().ConfigureAwait(false);
        }

        var request = context.Request;
        var path = request.Url!.AbsolutePath;
        var tenant = request.Headers["X-Scope-OrgID"];
        Requests.Enqueue((request.HttpMethod, request.Url.PathAndQuery, tenant, request.Headers["Authorization"], body));
        var (status, answer) = tenant is not { Length: > 0 } ? (401, "no org id\n")
            : (request.HttpMethod, path) switch
            {
                ("POST", "/loki/api/v1/push") when FailPushes => (503, "ingester unavailable\n"),
                ("POST", "/loki/api/v1/push") when request.ContentType?.StartsWith("application/json", StringComparison.Ordinal) != true => (415, "unsupported content type\n"),
                ("POST", "/loki/api/v1/push") => Push(tenant, body),
                ("GET", "/loki/api/v1/query_range") => Query(tenant, request.QueryString),
                _ => (404, "404 page not found\n"),
            };
        context.Response.StatusCode = status;
        if (status != 204)
        {
            context.Response.ContentType = answer.StartsWith('{') ? "application/json" : "text/plain; charset=utf-8";
            var bytes = Encoding.UTF8.GetBytes(answer);
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        }

        context.Response.Close();
    }

    private (int, string) Push(string tenant, string body)
    {
        JsonArray streams;
        try
        {
            streams = JsonNode.Parse(body)?["streams"] as JsonArray ?? throw new FormatException("no streams");
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or FormatException)
        {
            return (400, $"loghttp.PushRequest: {ex.Message}\n");
        }

        lock (_gate)
        {
            foreach (var stream in streams.OfType<JsonObject>())
            {
                var labels = (stream["stream"] as JsonObject ?? []).ToDictionary(p => p.Key, p => (string?)p.Value ?? "", StringComparer.Ordinal);
                if (labels.Count == 0)
                {
                    return (400, "error at least one label pair is required per stream\n");
                }

                var key = (tenant, string.Join(",", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\"")));
                if (!_streams.TryGetValue(key, out var stored))
                {
                    stored = (labels, new SortedSet<(long, string)>());
                    _streams[key] = stored;
                }

                foreach (var value in (stream["values"] as JsonArray ?? []).OfType<JsonArray>())
                {
                    if (!long.TryParse((string?)value[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ns))
                    {
                        return (400, $"invalid timestamp {value[0]}\n");
                    }

                    stored.Values.Add((ns, (string?)value[1] ?? "")); // a set: the same time and line again is a duplicate
                }
            }
        }

        return (204, "");
    }

    private (int, string) Query(string tenant, System.Collections.Specialized.NameValueCollection query)
    {
        var selector = query["query"] ?? "";
        var match = SelectorPattern().Match(selector);
        if (!match.Success)
        {
            return (400, $"parse error : syntax error: unexpected input in {selector}\n");
        }

        var matchers = match.Groups["name"].Captures.Zip(match.Groups["value"].Captures)
            .Select(p => (p.First.Value, Regex.Unescape(p.Second.Value))).ToList();
        var start = long.Parse(query["start"] ?? "0", CultureInfo.InvariantCulture);
        var end = long.Parse(query["end"] ?? long.MaxValue.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var limit = int.Parse(query["limit"] ?? "100", CultureInfo.InvariantCulture);
        var forward = query["direction"] == "forward";
        List<(Dictionary<string, string> Labels, long Ns, string Line)> hits;
        lock (_gate)
        {
            hits = _streams.Where(s => s.Key.Tenant == tenant && matchers.All(m => s.Value.Labels.TryGetValue(m.Item1, out var v) && v == m.Item2))
                .SelectMany(s => s.Value.Values.Where(v => v.Ns >= start && v.Ns < end).Select(v => (s.Value.Labels, v.Ns, v.Line)))
                .ToList();
        }

        var taken = (forward ? hits.OrderBy(h => h.Ns) : hits.OrderByDescending(h => h.Ns)).Take(limit).ToList();
        var result = new JsonArray(taken.GroupBy(h => h.Labels).Select(g => (JsonNode)new JsonObject
        {
            ["stream"] = new JsonObject(g.Key.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
            ["values"] = new JsonArray(g.Select(h => (JsonNode)new JsonArray(h.Ns.ToString(CultureInfo.InvariantCulture), h.Line)).ToArray()),
        }).ToArray());
        return (200, new JsonObject
        {
            ["status"] = "success",
            ["data"] = new JsonObject { ["resultType"] = "streams", ["result"] = result, ["stats"] = new JsonObject() },
        }.ToJsonString());
    }

    [GeneratedRegex("^\\{\\s*(?:(?<name>[a-zA-Z_][a-zA-Z0-9_]*)\\s*=\\s*\"(?<value>(?:[^\"\\\\]|\\\\.)*)\"\\s*,?\\s*)+\\}$")]
    private static partial Regex SelectorPattern();
}
