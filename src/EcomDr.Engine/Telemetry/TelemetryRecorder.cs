using EcomDr.Engine.Config;

namespace EcomDr.Engine.Telemetry;

/// <summary>
/// The one place every job records its outcome: the textfile collector file and the Pushgateway of
/// the environment's telemetry settings (ECOMDR_METRICS_FILE and ECOMDR_PUSHGATEWAY_URL override
/// them). A sink that fails does not fail the job: its problem is returned for a warning.
/// </summary>
public static class TelemetryRecorder
{
    public static (string? Textfile, Uri? Pushgateway) Sinks(TelemetryConfig? config)
    {
        var textfile = Environment.GetEnvironmentVariable("ECOMDR_METRICS_FILE") is { Length: > 0 } file ? file : config?.Textfile;
        var url = Environment.GetEnvironmentVariable("ECOMDR_PUSHGATEWAY_URL") is { Length: > 0 } u ? u : config?.PushgatewayUrl;
        return (textfile, url is null ? null : new Uri(url.EndsWith('/') ? url : url + "/"));
    }

    public static async Task<IReadOnlyList<string>> RecordAsync(TelemetryConfig? config, JobOutcome outcome, CancellationToken ct)
    {
        var problems = new List<string>();
        var (textfile, pushgateway) = Sinks(config);
        if (textfile is null && pushgateway is null)
        {
            return problems;
        }

        var samples = JobMetrics.Of(outcome);
        if (textfile is not null)
        {
            try
            {
                await TextfileSink.WriteAsync(textfile, samples, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                problems.Add($"metrics file {textfile}: {ex.Message}");
            }
        }

        if (pushgateway is not null)
        {
            try
            {
                await PushgatewaySink.PushAsync(pushgateway, outcome, samples, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                problems.Add($"Pushgateway {pushgateway}: {ex.Message}");
            }
        }

        return problems;
    }
}
