using EcomDr.Engine.Config;
using EcomDr.Engine.Operations.Telemetry;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Tests.Operations.Telemetry;

/// <summary>
/// Opt-in: push a fresh job log to a live Loki and verify it read back, when LOKI_URL is set (LOKI_TENANT
/// for a multi-tenant Loki, LOKI_TOKEN for a gateway that wants a bearer token). No Loki runs here, so
/// this is skipped visibly in CI (docs/testing.md). The lines go under environment "ecomdr-live-test".
/// </summary>
public sealed class LiveLokiTests
{
    [SkippableFact]
    public async Task Live_Loki_PushedLinesReadBackInOrderAndVerify()
    {
        var url = Environment.GetEnvironmentVariable("LOKI_URL");
        Skip.If(string.IsNullOrEmpty(url), "LOKI_URL is not set: no live Loki to test against");
        var folder = Directory.CreateTempSubdirectory("ecomdr-live-loki-").FullName;
        try
        {
            using var key = LocalKeyFile.Create(Path.Join(folder, "live.key"));
            var log = Path.Join(folder, "jobs.jsonl");
            var environment = "ecomdr-live-test";
            var started = DateTimeOffset.UtcNow.AddSeconds(-1);
            for (var i = 0; i < 20; i++)
            {
                var outcome = new JobOutcome(environment, "live-test", "test", "primary", started, DateTimeOffset.UtcNow, true, i, 1, null, null);
                await JobLog.AppendAsync(log, key, outcome, $"live-{i}", "finished", CancellationToken.None); // many in one millisecond
            }

            var config = new LokiConfig(new Uri(url!), Environment.GetEnvironmentVariable("LOKI_TENANT") is { Length: > 0 } t ? t : null,
                Environment.GetEnvironmentVariable("LOKI_TOKEN") is { Length: > 0 } ? "LOKI_TOKEN" : null);
            Assert.Equal(0, await JobLogLoki.ShipAsync(log, config, CancellationToken.None));

            // Loki makes pushed lines queryable within seconds: read until all are there.
            var expected = await File.ReadAllLinesAsync(log);
            IReadOnlyList<string> back = [];
            for (var attempt = 0; attempt < 60 && back.Count < expected.Length; attempt++)
            {
                await Task.Delay(500);
                back = await JobLogLoki.ReadAsync(config, Environment.MachineName, environment, started.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None);
                back = back.Where(l => expected.Contains(l)).ToList();
            }

            Assert.Equal(expected, back);
            var trust = new TrustedKeys();
            trust.AddPublicKeyFile(key.PublicKeyPath);
            Assert.True(JobLog.Verify("live loki", back, trust, fromStart: true).Passed);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
