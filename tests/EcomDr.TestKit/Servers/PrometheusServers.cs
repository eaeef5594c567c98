using System.Net.Http;
using System.Text.Json;

namespace EcomDr.TestKit.Servers;

/// <summary>A throwaway Prometheus Pushgateway (Debian's prometheus-pushgateway) on a free loopback port, metrics in memory only.</summary>
public sealed class PushgatewayServer : ServerProcess
{
    private PushgatewayServer()
        : base("pushgateway")
    {
    }

    public override string LogPath => Path.Join(Directory, "pushgateway.log");

    public string Url => $"http://127.0.0.1:{Port}/";

    public static async Task<PushgatewayServer> StartAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            var server = new PushgatewayServer();
            try
            {
                server.Port = FreePort();
                // Debian's build persists to /var/lib/prometheus/pushgateway.data by default, shared by every
                // instance and kept across runs: each test's Pushgateway keeps its metrics in memory only.
                server.StartProcess("prometheus-pushgateway", new[] { $"--web.listen-address=127.0.0.1:{server.Port}", "--persistence.file=" }, server.LogPath);
                await server.WaitUntilReadyAsync(() => Http.ReadyAsync($"{server.Url}-/ready"), TimeSpan.FromSeconds(30));
                return server;
            }
            catch (Exception) when (attempt < 3)
            {
                await server.DisposeAsync();
            }
        }
    }
}

/// <summary>A throwaway Prometheus (Debian's prometheus) scraping given targets every second, queried through its HTTP API.</summary>
public sealed class PrometheusServer : ServerProcess
{
    private PrometheusServer()
        : base("prometheus")
    {
    }

    public override string LogPath => Path.Join(Directory, "prometheus.log");

    public string Url => $"http://127.0.0.1:{Port}/";

    /// <summary>Scrapes each target (host:port) every second, keeping the pushed job labels (honor_labels, as for a Pushgateway).</summary>
    public static async Task<PrometheusServer> StartAsync(params string[] targets)
    {
        for (var attempt = 1; ; attempt++)
        {
            var server = new PrometheusServer();
            try
            {
                server.Port = FreePort();
                var config = Path.Join(server.Directory, "prometheus.yml");
                await File.WriteAllTextAsync(config, $"""
                    global:
                      scrape_interval: 1s
                      evaluation_interval: 1s
                    scrape_configs:
                      - job_name: pushgateway
                        honor_labels: true
                        static_configs:
                          - targets: [{string.Join(", ", targets.Select(t => $"'{t}'"))}]
                    """);
                server.StartProcess("prometheus", new[]
                {
                    $"--config.file={config}", $"--storage.tsdb.path={Path.Join(server.Directory, "data")}", $"--web.listen-address=127.0.0.1:{server.Port}",
                    "--web.enable-lifecycle",
                }, server.LogPath);
                await server.WaitUntilReadyAsync(() => Http.ReadyAsync($"{server.Url}-/ready"), TimeSpan.FromSeconds(60));
                return server;
            }
            catch (Exception) when (attempt < 3)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>An instant query: each result's labels and value.</summary>
    public async Task<IReadOnlyList<PrometheusSample>> QueryAsync(string promql)
    {
        var json = await Http.Client.GetStringAsync($"{Url}api/v1/query?query={Uri.EscapeDataString(promql)}").ConfigureAwait(false);
        using var doc = JsonDocument.Parse(json);
        var results = new List<PrometheusSample>();
        foreach (var r in doc.RootElement.GetProperty("data").GetProperty("result").EnumerateArray())
        {
            var labels = r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
            results.Add(new PrometheusSample(labels, double.Parse(r.GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture)));
        }

        return results;
    }

    /// <summary>Waits until the query returns at least one result (the next scrapes).</summary>
    public async Task<IReadOnlyList<PrometheusSample>> WaitForAsync(string promql, Func<double, bool>? accept = null, int seconds = 30)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var result = await QueryAsync(promql).ConfigureAwait(false);
            if (result.Count > 0 && (accept is null || result.All(r => accept(r.Value))))
            {
                return result;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                throw new TimeoutException($"Prometheus at {Url} had no acceptable result for {promql} within {seconds} s (last: {string.Join(", ", result.Select(r => r.Value))}).");
            }

            await Task.Delay(250).ConfigureAwait(false);
        }
    }
}

/// <summary>One series of a query result.</summary>
public sealed record PrometheusSample(IReadOnlyDictionary<string, string> Labels, double Value);

internal static class Http
{
    public static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(10) };

    public static async Task<bool> ReadyAsync(string url)
    {
        try
        {
            using var response = await Client.GetAsync(url).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
