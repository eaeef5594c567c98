namespace EcomDr.Engine.Operations.Telemetry;

/// <summary>
/// A job outcome as samples. Every sample carries the labels environment, job, kind and store. A
/// failed run updates the attempt, result and duration, and leaves the last success as it was.
/// </summary>
public static class JobMetrics
{
    public static IReadOnlyList<MetricSample> Of(JobOutcome outcome)
    {
        var labels = new List<KeyValuePair<string, string>>
        {
            new("environment", outcome.Environment),
            new("job", outcome.Job),
            new("kind", outcome.Kind),
            new("store", outcome.Store),
        };
        MetricSample Sample(string name, double value) => new(name, labels, value);
        var samples = new List<MetricSample>
        {
            Sample(MetricNames.LastAttempt, outcome.Finished.ToUnixTimeMilliseconds() / 1000.0),
            Sample(MetricNames.Success, outcome.Succeeded ? 1 : 0),
            Sample(MetricNames.Duration, Math.Round(outcome.DurationSeconds, 3)),
        };
        if (outcome.Succeeded)
        {
            samples.Add(Sample(MetricNames.LastSuccess, outcome.Finished.ToUnixTimeMilliseconds() / 1000.0));
            samples.Add(Sample(MetricNames.BytesStored, outcome.BytesStored));
            samples.Add(Sample(MetricNames.Artifacts, outcome.Artifacts));
        }

        foreach (var (name, value) in outcome.Figures ?? new Dictionary<string, double>())
        {
            if (!MetricNames.Help.ContainsKey(name))
            {
                throw new ArgumentException($"{name} is not one of EcomDr's metric names.", nameof(outcome));
            }

            samples.Add(Sample(name, value));
        }

        return samples;
    }
}
