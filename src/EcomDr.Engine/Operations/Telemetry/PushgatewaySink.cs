using System.Text;

namespace EcomDr.Engine.Operations.Telemetry;

/// <summary>
/// Pushes a job's samples to a Prometheus Pushgateway, grouped by job, environment, kind and store.
/// POST, not PUT: only the pushed names are replaced, so a failed run keeps the group's last success.
/// </summary>
public static class PushgatewaySink
{
    public static async Task PushAsync(Uri gateway, JobOutcome outcome, IReadOnlyList<MetricSample> samples, CancellationToken ct)
    {
        // The grouping key's own labels are dropped from the body: the Pushgateway adds them back.
        var grouping = new[] { "job", "environment", "kind", "store" };
        var body = PrometheusText.Render(samples.Select(s => s with { Labels = s.Labels.Where(l => !grouping.Contains(l.Key)).ToList() }));
        var path = $"metrics/job/{Segment(outcome.Job)}/environment/{Segment(outcome.Environment)}/kind/{Segment(outcome.Kind)}/store/{Segment(outcome.Store)}";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/plain") { Parameters = { new("version", "0.0.4") } };
        using var response = await http.PostAsync(new Uri(gateway, path), content, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"Pushgateway {gateway} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false)}");
        }
    }

    public static async Task<IReadOnlyList<MetricSample>> ReadAsync(Uri gateway, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        var text = await http.GetStringAsync(new Uri(gateway, "metrics"), ct).ConfigureAwait(false);
        return PrometheusText.Parse(text).Where(s => s.Name.StartsWith("ecomdr_", StringComparison.Ordinal)).ToList();
    }

    // Pushgateway path segments: an empty value or one with a slash would need base64 encoding; ours never do.
    private static string Segment(string value) => Uri.EscapeDataString(value.Length == 0 ? "none" : value);
}
