using EcomDr.Engine.Config;

namespace EcomDr.Engine.Operations.Telemetry;

/// <summary>The current value of one EcomDr series, for a look in a terminal (Get-DrMetric).</summary>
public sealed record MetricValue(string Name, string Environment, string Job, string Kind, string Store, double Value, string Source)
{
    /// <summary>The value as a time, for the *_timestamp_seconds metrics.</summary>
    public DateTimeOffset? Time => Name.EndsWith("_timestamp_seconds", StringComparison.Ordinal) ? DateTimeOffset.FromUnixTimeMilliseconds((long)(Value * 1000)) : null;
}

/// <summary>Reads the metrics back from where the jobs wrote them: the textfile first, else the Pushgateway.</summary>
public static class MetricReader
{
    public static async Task<IReadOnlyList<MetricValue>> ReadAsync(TelemetryConfig? config, CancellationToken ct)
    {
        var (textfile, pushgateway) = TelemetryRecorder.Sinks(config);
        IReadOnlyList<MetricSample> samples;
        string source;
        if (textfile is not null)
        {
            samples = await TextfileSink.ReadAsync(textfile, ct).ConfigureAwait(false);
            source = textfile;
        }
        else if (pushgateway is not null)
        {
            samples = await PushgatewaySink.ReadAsync(pushgateway, ct).ConfigureAwait(false);
            source = pushgateway.ToString();
        }
        else
        {
            throw new Errors.EcomDrException(Errors.ErrorIds.ConfigInvalid, Errors.FailureKind.ObjectNotFound,
                "No metrics sink is configured: set telemetry.textfile or telemetry.pushgatewayUrl in the environment (or ECOMDR_METRICS_FILE / ECOMDR_PUSHGATEWAY_URL).", "telemetry");
        }

        return samples.Where(s => s.Name.StartsWith("ecomdr_", StringComparison.Ordinal))
            .Select(s => new MetricValue(s.Name, s.Label("environment"), s.Label("job"), s.Label("kind"), s.Label("store"), s.Value, source))
            .OrderBy(m => m.Job, StringComparer.Ordinal).ThenBy(m => m.Kind, StringComparer.Ordinal).ThenBy(m => m.Store, StringComparer.Ordinal).ThenBy(m => m.Name, StringComparer.Ordinal)
            .ToList();
    }
}
