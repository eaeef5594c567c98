using EcomDr.Engine.Operations.Telemetry;

namespace EcomDr.Engine.Tests.Operations.Telemetry;

/// <summary>The metrics format and the textfile collector file: exact text, merging, failures, atomicity, concurrency.</summary>
public sealed class TelemetryTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ecomdr-metrics-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static JobOutcome Outcome(string job, bool ok, DateTimeOffset at, long bytes = 0, string environment = "prod") =>
        new(environment, job, "mysql-full", "primary", at.AddSeconds(-90), at, ok, bytes, ok ? 3 : 0);

    [Fact]
    public void SamplesRenderAsPrometheusTextAndReadBack()
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        var text = PrometheusText.Render(JobMetrics.Of(Outcome("full-backup", true, at, 1234, environment: "pr\"od\\x\ny")));
        Assert.Contains("# HELP ecomdr_job_bytes_stored Bytes the job's last run stored in the repository.\n# TYPE ecomdr_job_bytes_stored gauge\n", text);
        Assert.Contains("ecomdr_job_bytes_stored{environment=\"pr\\\"od\\\\x\\ny\",job=\"full-backup\",kind=\"mysql-full\",store=\"primary\"} 1234\n", text);
        Assert.Contains("ecomdr_job_last_success_timestamp_seconds{environment=", text);
        Assert.Contains("} 1800000000\n", text);
        Assert.Contains("ecomdr_job_duration_seconds{environment=\"pr\\\"od\\\\x\\ny\",job=\"full-backup\",kind=\"mysql-full\",store=\"primary\"} 90\n", text);
        var parsed = PrometheusText.Parse(text);
        Assert.Equal(6, parsed.Count);
        Assert.All(parsed, s => Assert.Equal("pr\"od\\x\ny", s.Label("environment")));
        Assert.Equal(1234, parsed.Single(s => s.Name == MetricNames.BytesStored).Value);
    }

    [Fact]
    public async Task AFailedRunKeepsTheLastSuccessAndOtherJobsSeries()
    {
        var file = Path.Combine(_folder, "ecomdr.prom");
        var first = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        await TextfileSink.WriteAsync(file, JobMetrics.Of(Outcome("full-backup", true, first, 500)), CancellationToken.None);
        await TextfileSink.WriteAsync(file, JobMetrics.Of(Outcome("binlog-shipping", true, first.AddMinutes(1), 70)), CancellationToken.None);
        await TextfileSink.WriteAsync(file, JobMetrics.Of(Outcome("full-backup", false, first.AddDays(1))), CancellationToken.None);

        var samples = await TextfileSink.ReadAsync(file, CancellationToken.None);
        double Value(string name, string job) => samples.Single(s => s.Name == name && s.Label("job") == job).Value;
        Assert.Equal(0, Value(MetricNames.Success, "full-backup"));
        Assert.Equal(first.AddDays(1).ToUnixTimeSeconds(), Value(MetricNames.LastAttempt, "full-backup"));
        Assert.Equal(first.ToUnixTimeSeconds(), Value(MetricNames.LastSuccess, "full-backup"));
        Assert.Equal(500, Value(MetricNames.BytesStored, "full-backup"));
        Assert.Equal(70, Value(MetricNames.BytesStored, "binlog-shipping"));
        Assert.Equal(new[] { "ecomdr.prom" }, Directory.GetFiles(_folder).Select(Path.GetFileName));
    }

    [Fact]
    public async Task ConcurrentJobsLoseNoSeries()
    {
        var file = Path.Combine(_folder, "ecomdr.prom");
        var at = DateTimeOffset.UtcNow;
        await Task.WhenAll(Enumerable.Range(0, 24).Select(i => Task.Run(() =>
            TextfileSink.WriteAsync(file, JobMetrics.Of(Outcome($"job-{i}", true, at, i)), CancellationToken.None))));
        var samples = await TextfileSink.ReadAsync(file, CancellationToken.None);
        Assert.Equal(Enumerable.Range(0, 24).Select(i => (double)i), samples.Where(s => s.Name == MetricNames.BytesStored).OrderBy(s => s.Value).Select(s => s.Value));
        Assert.Equal(24 * 6, samples.Count);
    }

    [Fact]
    public void AFigureOutsideTheMetricNamesIsRefused() =>
        Assert.Throws<ArgumentException>(() => JobMetrics.Of(Outcome("drill", true, DateTimeOffset.UtcNow) with { Figures = new Dictionary<string, double> { ["ecomdr_made_up"] = 1 } }));

    [Fact]
    public void NotPrometheusTextIsRefused() =>
        Assert.Throws<InvalidDataException>(() => PrometheusText.Parse("ecomdr_job_success{job=\"x\" 1\n"));
}
