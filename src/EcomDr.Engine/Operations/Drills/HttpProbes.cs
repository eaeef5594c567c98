using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using EcomDr.Engine.Config;

namespace EcomDr.Engine.Operations.Drills;

/// <summary>
/// Runs the configured HTTP probes (health, synthetic login, dummy checkout) against an app pointed
/// at the restored database: {host}, {port} and {schema} in the URL and body name it. Each probe is a
/// checklist line with its status, time and the start of its body as evidence.
/// </summary>
public static class HttpProbes
{
    public static async Task<IReadOnlyList<DrillCheck>> RunAsync(IReadOnlyList<ProbeConfig> probes, string host, int port, string schema, CancellationToken ct)
    {
        var checks = new List<DrillCheck>();
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = Timeout.InfiniteTimeSpan };
        foreach (var probe in probes)
        {
            string Fill(string text) => text.Replace("{host}", host, StringComparison.Ordinal).Replace("{port}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{schema}", Uri.EscapeDataString(schema), StringComparison.Ordinal);
            var url = Fill(probe.Url);
            var clock = Stopwatch.StartNew();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(probe.TimeoutSeconds));
            try
            {
                using var request = new HttpRequestMessage(new HttpMethod(probe.Method), url);
                if (probe.Body is { } body)
                {
                    request.Content = new StringContent(Fill(body), Encoding.UTF8, probe.ContentType ?? "text/plain");
                }

                using var response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
                var text = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
                var statusOk = (int)response.StatusCode == probe.ExpectStatus;
                var bodyOk = probe.ExpectBody is not { } pattern || Regex.IsMatch(text, pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
                var start = text.Length > 120 ? text[..120] + "…" : text;
                checks.Add(new DrillCheck($"Probe {probe.Name}", statusOk && bodyOk,
                    $"{probe.Method} {Redact(url)}: {(int)response.StatusCode} in {clock.ElapsedMilliseconds} ms (expected {probe.ExpectStatus}" +
                    (probe.ExpectBody is null ? ")" : $", body matching /{probe.ExpectBody}/: {(bodyOk ? "yes" : "no")})") + $"; body: {start.ReplaceLineEndings(" ")}"));
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or InvalidOperationException && !ct.IsCancellationRequested)
            {
                checks.Add(new DrillCheck($"Probe {probe.Name}", false,
                    $"{probe.Method} {Redact(url)}: {(ex is OperationCanceledException ? $"no answer within {probe.TimeoutSeconds} s" : ex.Message)}"));
            }
        }

        return checks;
    }

    /// <summary>A URL without credentials in it (user:password@ or a query value named like a secret).</summary>
    private static string Redact(string url) =>
        Regex.Replace(Regex.Replace(url, "//[^/@]+@", "//***@"), @"(?i)([?&](password|pwd|token|secret|key)=)[^&]*", "$1***");
}
