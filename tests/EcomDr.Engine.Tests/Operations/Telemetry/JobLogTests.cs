using EcomDr.Engine.Operations.Telemetry;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Tests.Operations.Telemetry;

/// <summary>The signed job log against a tamper matrix: each kind of change is found, at the line where it happened.</summary>
public sealed class JobLogTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ecomdr-joblog-" + Guid.NewGuid().ToString("N"));
    private readonly LocalKeyFile _key;
    private readonly string _log;

    public JobLogTests()
    {
        Directory.CreateDirectory(_folder);
        _key = LocalKeyFile.Create(Path.Combine(_folder, "prod.key"));
        _log = Path.Combine(_folder, "logs", "jobs.jsonl");
    }

    public void Dispose()
    {
        _key.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private TrustedKeys Trust()
    {
        var trust = new TrustedKeys();
        trust.AddPublicKeyFile(_key.PublicKeyPath); // the public half only, as an auditor has it
        return trust;
    }

    private async Task<string[]> WriteJobsAsync(int jobs)
    {
        var at = DateTimeOffset.UtcNow;
        for (var i = 0; i < jobs; i++)
        {
            var outcome = new JobOutcome("prod", "full-backup", "mysql-full", "primary", at, at.AddSeconds(5), i % 2 == 0, 1000 + i, 3,
                new Dictionary<string, double> { [MetricNames.RpoExposure] = i }, i % 2 == 0 ? null : "EcomDr.AuthenticationFailed: access denied");
            await JobLog.AppendAsync(_log, _key, outcome, $"job-{i}", "started", CancellationToken.None);
            await JobLog.AppendAsync(_log, _key, outcome, $"job-{i}", outcome.Succeeded ? "finished" : "failed", CancellationToken.None);
        }

        return await File.ReadAllLinesAsync(_log);
    }

    private async Task<JobLogReport> VerifyAfterAsync(IEnumerable<string> lines, bool newlineAtEnd = true)
    {
        await File.WriteAllTextAsync(_log, string.Join("\n", lines) + (newlineAtEnd ? "\n" : ""));
        return await JobLog.VerifyAsync(_log, Trust(), CancellationToken.None);
    }

    [Fact]
    public async Task AnUntouchedLogPassesWithTheKeysPublicHalfOnly()
    {
        var lines = await WriteJobsAsync(3);
        var report = await JobLog.VerifyAsync(_log, Trust(), CancellationToken.None);
        Assert.True(report.Passed, string.Join("; ", report.Problems));
        Assert.Equal((6, 3), (report.Lines, report.Jobs));
        Assert.Contains("\"prev\":\"genesis\"", lines[0]);
        Assert.Contains("\"step\":\"failed\"", lines[3]);
        Assert.Contains("\"error\":\"EcomDr.AuthenticationFailed: access denied\"", lines[3]);
        Assert.All(lines, l => Assert.Matches("^\\{\"ts\":\"[^\"]+Z\",\"jobId\":\"job-\\d\",\"environment\":\"prod\",\"job\":\"full-backup\",.*,\"keyId\":\"sk-[0-9a-f]+\",\"sig\":\"[A-Za-z0-9+/=]+\"\\}$", l));
        Assert.False(File.Exists(_log + ".lock"));
    }

    [Theory]
    [InlineData("removed", 3, "it does not follow the line before it")]
    [InlineData("reordered", 3, "it does not follow the line before it")]
    [InlineData("edited", 3, "its signature does not verify")]
    [InlineData("inserted", 3, "it does not follow the line before it")]
    [InlineData("first-removed", 1, "the first line does not start the chain")]
    [InlineData("resigned-by-another-key", 3, "which is not a trusted key")]
    [InlineData("cut-off", 6, "the last line is incomplete")]
    [InlineData("garbage", 3, "not a signed job log line")]
    public async Task EachChangeIsFoundWhereItHappened(string change, int line, string problem)
    {
        var lines = (await WriteJobsAsync(3)).ToList();
        switch (change)
        {
            case "removed":
                lines.RemoveAt(2);
                break;
            case "reordered":
                (lines[2], lines[3]) = (lines[3], lines[2]);
                break;
            case "edited":
                lines[2] = lines[2].Replace("\"bytesStored\":null", "\"bytesStored\":0", StringComparison.Ordinal).Replace("\"job\":\"full-backup\"", "\"job\":\"file-backup\"", StringComparison.Ordinal);
                break;
            case "inserted":
                lines.Insert(2, lines[1]);
                break;
            case "first-removed":
                lines.RemoveAt(0);
                break;
            case "resigned-by-another-key":
            {
                // A forger with a key of their own writes a whole valid-looking log: its lines chain, but are not trusted.
                using var other = LocalKeyFile.Create(Path.Combine(_folder, "forger.key"));
                var forged = Path.Combine(_folder, "forged.jsonl");
                var at = DateTimeOffset.UtcNow;
                foreach (var i in Enumerable.Range(0, 3))
                {
                    await JobLog.AppendAsync(forged, i == 2 ? other : _key, new JobOutcome("prod", "drill", "Pitr", "primary", at, at, true), "x", "finished", CancellationToken.None);
                }

                lines = (await File.ReadAllLinesAsync(forged)).ToList();
                break;
            }

            case "cut-off":
                lines[^1] = lines[^1][..(lines[^1].Length / 2)];
                var cut = await VerifyAfterAsync(lines, newlineAtEnd: false);
                Assert.False(cut.Passed);
                Assert.Contains(cut.Problems, p => p.Line == line && p.Problem.Contains(problem, StringComparison.Ordinal));
                return;
            case "garbage":
                lines[2] = "{\"ts\":\"2026-01-01T00:00:00Z\",\"note\":\"hello\"}";
                break;
        }

        var report = await VerifyAfterAsync(lines);
        Assert.False(report.Passed);
        Assert.Contains(report.Problems, p => p.Line == line && p.Problem.Contains(problem, StringComparison.Ordinal));
        Assert.DoesNotContain(report.Problems, p => p.Line < line);
    }
}
