using EcomDr.Engine.Config;

namespace EcomDr.Engine.Operations.Telemetry;

/// <summary>
/// The one place every job records its outcome: the textfile collector file, the Pushgateway and the
/// signed job log of the environment's telemetry settings (ECOMDR_METRICS_FILE, ECOMDR_PUSHGATEWAY_URL
/// and ECOMDR_JOB_LOG override them). A sink that fails does not fail the job: its problem is returned
/// for a warning.
/// </summary>
public static class TelemetryRecorder
{
    /// <summary>The sinks in force: a job's -PushgatewayUrl first, then the environment variables, then the configuration.</summary>
    public static (string? Textfile, Uri? Pushgateway) Sinks(TelemetryConfig? config, string? pushgatewayUrl = null)
    {
        var textfile = Environment.GetEnvironmentVariable("ECOMDR_METRICS_FILE") is { Length: > 0 } file ? file : config?.Textfile;
        var url = pushgatewayUrl ?? (Environment.GetEnvironmentVariable("ECOMDR_PUSHGATEWAY_URL") is { Length: > 0 } u ? u : config?.PushgatewayUrl);
        return (textfile, url is null ? null : new Uri(url.EndsWith('/') ? url : url + "/"));
    }

    public static string? JobLogPath(TelemetryConfig? config) =>
        Environment.GetEnvironmentVariable("ECOMDR_JOB_LOG") is { Length: > 0 } log ? log : config?.JobLog;

    /// <summary>The job log's "started" line (metrics record only outcomes).</summary>
    public static async Task<IReadOnlyList<string>> StartAsync(TelemetryConfig? config, Pipeline.Crypto.LocalKeyFile? signer, JobOutcome outcome, string jobId, CancellationToken ct)
    {
        var problems = new List<string>();
        await LogAsync(config, signer, outcome, jobId, "started", problems, ct).ConfigureAwait(false);
        return problems;
    }

    public static async Task<IReadOnlyList<string>> RecordAsync(TelemetryConfig? config, JobOutcome outcome, CancellationToken ct, Pipeline.Crypto.LocalKeyFile? signer = null,
        string? jobId = null, string? pushgatewayUrl = null)
    {
        var problems = new List<string>();
        await LogAsync(config, signer, outcome, jobId ?? Guid.NewGuid().ToString("N"), outcome.Succeeded ? "finished" : "failed", problems, ct).ConfigureAwait(false);
        if (config?.Loki is { } loki && JobLogPath(config) is { } log)
        {
            // A failed push never fails the job: the lines wait for the next one, and the metric says how many.
            int? pending = null; // unknown when the log or its cursor could not be read: no figure then
            try
            {
                pending = await JobLogLoki.ShipAsync(log, loki, ct).ConfigureAwait(false);
            }
            catch (LokiPushException ex)
            {
                pending = ex.Pending;
                problems.Add($"Loki {loki.Url}: {ex.Message}; {ex.Pending} job log line(s) wait for the next job");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problems.Add($"Loki {loki.Url}: {ex.Message}");
            }

            if (pending is { } lines)
            {
                var figures = new Dictionary<string, double>(outcome.Figures ?? new Dictionary<string, double>()) { [MetricNames.LokiPending] = lines };
                outcome = outcome with { Figures = figures };
            }
        }

        var (textfile, pushgateway) = Sinks(config, pushgatewayUrl);
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

    private static async Task LogAsync(TelemetryConfig? config, Pipeline.Crypto.LocalKeyFile? signer, JobOutcome outcome, string jobId, string step, List<string> problems, CancellationToken ct)
    {
        if (JobLogPath(config) is not { } path)
        {
            return;
        }

        if (signer is null)
        {
            problems.Add($"job log {path}: not written, the environment's own key file is not available to sign it (a line signed by another key, such as -KeyFile's, would fail Test-DrJobLog)");
            return;
        }

        try
        {
            await JobLog.AppendAsync(path, signer, outcome, jobId, step, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems.Add($"job log {path}: {ex.Message}");
        }
    }
}
