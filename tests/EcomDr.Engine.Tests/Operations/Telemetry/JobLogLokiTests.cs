using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Operations.Telemetry;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Operations.Telemetry;

/// <summary>
/// The job log's push to Loki and its verification from Loki, against LokiStandIn (no Loki can be
/// installed here; it answers as Loki's HTTP API reference documents push and query_range). The opt-in
/// live test is LiveLokiTests.
/// </summary>
public sealed class JobLogLokiTests : IAsyncLifetime
{
    private const string Tenant = "shop";
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ecomdr-loki-" + Guid.NewGuid().ToString("N"));
    private readonly LokiStandIn _loki = LokiStandIn.Start();
    private LocalKeyFile _key = null!;
    private string _log = null!;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        _key = LocalKeyFile.Create(Path.Combine(_folder, "prod.key"));
        _log = Path.Combine(_folder, "jobs.jsonl");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _key.Dispose();
        await _loki.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private TelemetryConfig Config(string? tokenEnv = null) => new(Path.Combine(_folder, "ecomdr.prom"), null, _log) { Loki = new LokiConfig(_loki.Endpoint, Tenant, tokenEnv) };

    private static JobOutcome Outcome(string job, string kind, bool ok, int i) =>
        new("prod", job, kind, "primary", DateTimeOffset.UtcNow.AddSeconds(-5), DateTimeOffset.UtcNow, ok, 1000 + i, 3, null, ok ? null : "EcomDr.ConnectionFailed: refused");

    private async Task<IReadOnlyList<string>> RunJobAsync(TelemetryConfig config, string job, string kind, bool ok, int i)
    {
        var outcome = Outcome(job, kind, ok, i);
        var jobId = $"job-{i}";
        var problems = (await TelemetryRecorder.StartAsync(config, _key, outcome, jobId, CancellationToken.None)).ToList();
        problems.AddRange(await TelemetryRecorder.RecordAsync(config, outcome, CancellationToken.None, _key, jobId));
        return problems;
    }

    private TrustedKeys Trust()
    {
        var trust = new TrustedKeys();
        trust.AddPublicKeyFile(_key.PublicKeyPath);
        return trust;
    }

    private double PendingMetric(string job) =>
        PrometheusText.Parse(File.ReadAllText(Config().Textfile!)).Single(s => s.Name == MetricNames.LokiPending && s.Label("job") == job).Value;

    private Task<IReadOnlyList<string>> ReadBackAsync(string host) =>
        JobLogLoki.ReadAsync(Config().Loki!, host, "prod", DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None);

    [Fact]
    public async Task LinesGoToLokiUnchangedLabelledAndVerifyWhenReadBack()
    {
        Environment.SetEnvironmentVariable("ECOMDR_TEST_LOKI_TOKEN", "loki-token-123");
        try
        {
            Assert.Empty(await RunJobAsync(Config("ECOMDR_TEST_LOKI_TOKEN"), "full-backup", "mysql-full", true, 1));
            Assert.Empty(await RunJobAsync(Config("ECOMDR_TEST_LOKI_TOKEN"), "binlog-ship", "mysql-binlog", false, 2));
        }
        finally
        {
            Environment.SetEnvironmentVariable("ECOMDR_TEST_LOKI_TOKEN", null);
        }

        var file = await File.ReadAllLinesAsync(_log);
        var stored = _loki.Entries(Tenant);
        Assert.Equal(file, stored.Select(e => e.Line)); // byte for byte, in the log's order
        Assert.Equal(4, stored.Count);
        Assert.All(stored, e => Assert.Equal(Environment.MachineName, e.Labels["host"]));
        Assert.Equal(["full-backup", "full-backup", "binlog-ship", "binlog-ship"], stored.Select(e => e.Labels["job"]));
        Assert.Equal(["mysql-full", "mysql-full", "mysql-binlog", "mysql-binlog"], stored.Select(e => e.Labels["kind"]));
        Assert.All(stored, e => Assert.Equal(("ecomdr", "prod"), (e.Labels["source"], e.Labels["environment"])));
        Assert.All(_loki.Requests.Where(r => r.Method == "POST"), r => Assert.Equal((Tenant, "Bearer loki-token-123"), (r.Tenant, r.Authorization)));
        Assert.Equal(0, PendingMetric("binlog-ship"));
        Assert.Equal("4", await File.ReadAllTextAsync(_log + ".loki"));

        var lines = await ReadBackAsync(Environment.MachineName);
        Assert.Equal(file, lines);
        var report = JobLog.Verify("loki", lines, Trust(), fromStart: false);
        Assert.True(report.Passed, string.Join("; ", report.Problems));
        Assert.Equal((4, 2), (report.Lines, report.Jobs));
        Assert.Equal((await JobLog.VerifyAsync(_log, Trust(), CancellationToken.None)).LastHash, report.LastHash);
        Assert.Empty(await ReadBackAsync("another-host"));
    }

    [Fact]
    public async Task AFailedPushNeverFailsTheJobAndTheNextJobSendsWhatWaited()
    {
        _loki.FailPushes = true;
        var problems = await RunJobAsync(Config(), "full-backup", "mysql-full", true, 1);
        Assert.Contains(problems, p => p.Contains("503", StringComparison.Ordinal) && p.Contains("2 job log line(s) wait for the next job", StringComparison.Ordinal));
        Assert.Equal(2, PendingMetric("full-backup"));
        Assert.Empty(_loki.Entries(Tenant));
        Assert.Equal(2, (await File.ReadAllLinesAsync(_log)).Length); // the job itself was logged and recorded

        _loki.FailPushes = false;
        Assert.Empty(await RunJobAsync(Config(), "binlog-ship", "mysql-binlog", true, 2));
        Assert.Equal(0, PendingMetric("binlog-ship"));
        Assert.Equal(await File.ReadAllLinesAsync(_log), _loki.Entries(Tenant).Select(e => e.Line));

        // A push of lines Loki already has (a cursor lost after the push) gives the same entries: Loki drops the duplicates.
        File.Delete(_log + ".loki");
        Assert.Empty(await RunJobAsync(Config(), "full-backup", "mysql-full", true, 3));
        var lines = await File.ReadAllLinesAsync(_log);
        Assert.Equal(6, lines.Length);
        Assert.Equal(lines, _loki.Entries(Tenant).Select(e => e.Line));
    }

    [Fact]
    public async Task ALokiThatIsNotThereIsAWarningAndAMetric()
    {
        var closed = new LokiConfig(new Uri($"http://127.0.0.1:{ServerProcess.FreePort()}/"), Tenant, null);
        var problems = await RunJobAsync(Config() with { Loki = closed }, "full-backup", "mysql-full", true, 1);
        Assert.Contains(problems, p => p.StartsWith($"Loki {closed.Url}", StringComparison.Ordinal));
        Assert.Equal(2, PendingMetric("full-backup"));
        var error = await Assert.ThrowsAsync<EcomDrException>(() => JobLogLoki.ReadAsync(closed, "h", "prod", DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow, CancellationToken.None));
        Assert.Equal(ErrorIds.ConnectionFailed, error.ErrorId);
    }

    [Theory]
    [InlineData("edited", "its signature does not verify")]
    [InlineData("removed", "it does not follow the line before it")]
    public async Task ALineChangedOrRemovedInLokiIsFound(string change, string problem)
    {
        for (var i = 0; i < 3; i++)
        {
            Assert.Empty(await RunJobAsync(Config(), "full-backup", "mysql-full", true, i));
        }

        var file = await File.ReadAllLinesAsync(_log);
        var target = file[2];
        _loki.Replace(Tenant, target, change == "edited" ? target.Replace("\"bytesStored\":null", "\"bytesStored\":1", StringComparison.Ordinal).Replace("\"step\":\"started\"", "\"step\":\"started \"", StringComparison.Ordinal) : "");
        var lines = (await ReadBackAsync(Environment.MachineName)).Where(l => l.Length > 0).ToList();
        var report = JobLog.Verify("loki", lines, Trust(), fromStart: false);
        Assert.False(report.Passed);
        Assert.Contains(report.Problems, p => p.Line == 3 && p.Problem.Contains(problem, StringComparison.Ordinal));

        // The oldest lines gone (Loki's retention, or -Since) are no problem: the chain is checked from the first line read.
        var later = JobLog.Verify("loki", file.Skip(2).ToList(), Trust(), fromStart: false);
        Assert.True(later.Passed, string.Join("; ", later.Problems));
        Assert.False(JobLog.Verify("file", file.Skip(2).ToList(), Trust(), fromStart: true).Passed);
    }

    [Fact]
    public async Task ReadingBackPagesThroughLokisLimitInOrder()
    {
        for (var i = 0; i < 5100; i++)
        {
            await JobLog.AppendAsync(_log, _key, Outcome(i % 2 == 0 ? "full-backup" : "binlog-ship", "mysql-full", true, i), $"job-{i}", "finished", CancellationToken.None);
        }

        Assert.Equal(0, await JobLogLoki.ShipAsync(_log, Config().Loki!, CancellationToken.None));
        Assert.Equal(11, _loki.Requests.Count(r => r.Method == "POST")); // 500 lines a push
        var back = await ReadBackAsync(Environment.MachineName);
        Assert.Equal(await File.ReadAllLinesAsync(_log), back);
        Assert.Equal(2, _loki.Requests.Count(r => r.Method == "GET"));
        Assert.All(_loki.Requests.Where(r => r.Method == "GET"), r => Assert.Contains("limit=5000&direction=forward", r.Path, StringComparison.Ordinal));
        Assert.True(JobLog.Verify("loki", back, Trust(), fromStart: true).Passed);
    }
}
