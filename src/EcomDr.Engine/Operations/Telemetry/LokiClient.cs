using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Operations.Telemetry;

/// <summary>One entry of a Loki stream: its labels, its time in nanoseconds, and the line.</summary>
public sealed record LokiEntry(IReadOnlyDictionary<string, string> Labels, long Nanoseconds, string Line);

/// <summary>
/// Loki's documented HTTP API: POST /loki/api/v1/push ({"streams":[{"stream":{labels},"values":[["ns","line"]]}]})
/// and GET /loki/api/v1/query_range (a LogQL stream selector, start and end in nanoseconds, forward).
/// The tenant goes in X-Scope-OrgID; a token, when configured, as a Bearer credential.
/// </summary>
public sealed class LokiClient : IDisposable
{
    private readonly HttpClient _http;

    public LokiClient(LokiConfig config, TimeSpan? timeout = null)
    {
        Url = config.Url;
        _http = new HttpClient { BaseAddress = new Uri(config.Url.ToString().TrimEnd('/') + "/"), Timeout = timeout ?? TimeSpan.FromSeconds(15) };
        if (config.Tenant is { } tenant)
        {
            _http.DefaultRequestHeaders.Add("X-Scope-OrgID", tenant);
        }

        if (config.TokenEnvironmentVariable is { } variable && Environment.GetEnvironmentVariable(variable) is { Length: > 0 } token)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    public Uri Url { get; }

    public async Task PushAsync(IReadOnlyList<LokiEntry> entries, CancellationToken ct)
    {
        var streams = new JsonArray(entries.GroupBy(e => Key(e.Labels)).Select(g => (JsonNode)new JsonObject
        {
            ["stream"] = new JsonObject(g.First().Labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
            ["values"] = new JsonArray(g.Select(e => (JsonNode)new JsonArray(e.Nanoseconds.ToString(CultureInfo.InvariantCulture), e.Line)).ToArray()),
        }).ToArray());
        using var content = new StringContent(new JsonObject { ["streams"] = streams }.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync("loki/api/v1/push", content, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"Loki at {Url} answered the push with {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false)}");
        }
    }

    /// <summary>Every entry the selector matches between two times, in time order.</summary>
    public async Task<IReadOnlyList<LokiEntry>> QueryRangeAsync(string selector, DateTimeOffset start, DateTimeOffset end, CancellationToken ct)
    {
        // Loki refuses a range longer than its max_query_length (721h by default): 30 days at a time.
        var entries = new List<LokiEntry>();
        for (var from = start; from < end; from += Window)
        {
            var to = from + Window < end ? from + Window : end;
            await QueryWindowAsync(selector, Nanoseconds(from), Nanoseconds(to), entries, ct).ConfigureAwait(false);
        }

        return entries.OrderBy(e => e.Nanoseconds).ToList();
    }

    private static readonly TimeSpan Window = TimeSpan.FromDays(30);
    private const int Limit = 5000; // Loki's default max_entries_limit_per_query

    private async Task QueryWindowAsync(string selector, long from, long to, List<LokiEntry> entries, CancellationToken ct)
    {
        while (true)
        {
            // start is inclusive, end exclusive: windows and pages neither overlap nor leave gaps.
            var query = $"loki/api/v1/query_range?query={Uri.EscapeDataString(selector)}&start={from}&end={to}&limit={Limit}&direction=forward";
            using var response = await GetAsync(query, ct).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new EcomDrException(ErrorIds.ConnectionFailed, FailureKind.ConnectionError, $"Loki at {Url} answered the query with {(int)response.StatusCode}: {text}", Url.ToString());
            }

            var page = new List<LokiEntry>();
            foreach (var stream in (JsonNode.Parse(text)?["data"]?["result"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var labels = (stream["stream"] as JsonObject ?? []).ToDictionary(p => p.Key, p => (string?)p.Value ?? "", StringComparer.Ordinal);
                page.AddRange((stream["values"] as JsonArray ?? []).OfType<JsonArray>()
                    .Select(v => new LokiEntry(labels, long.Parse((string)v[0]!, CultureInfo.InvariantCulture), (string)v[1]!)));
            }

            entries.AddRange(page);
            if (page.Count < Limit)
            {
                return;
            }

            from = page.Max(e => e.Nanoseconds) + 1; // the next page starts after the last entry read
        }
    }

    private async Task<HttpResponseMessage> GetAsync(string query, CancellationToken ct)
    {
        try
        {
            return await _http.GetAsync(query, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !ct.IsCancellationRequested))
        {
            throw new EcomDrException(ErrorIds.ConnectionFailed, FailureKind.ConnectionError, $"Loki at {Url} did not answer the query: {ex.Message}", Url.ToString(), ex);
        }
    }

    public static long Nanoseconds(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    private static string Key(IReadOnlyDictionary<string, string> labels) => string.Join(",", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));

    public void Dispose() => _http.Dispose();
}
