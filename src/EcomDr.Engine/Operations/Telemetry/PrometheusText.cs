using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace EcomDr.Engine.Operations.Telemetry;

/// <summary>One sample: a metric name, its labels (sorted by name) and its value.</summary>
public sealed record MetricSample(string Name, IReadOnlyList<KeyValuePair<string, string>> Labels, double Value)
{
    public string Series => Labels.Count == 0 ? Name : $"{Name}{{{string.Join(",", Labels.Select(l => $"{l.Key}=\"{PrometheusText.Escape(l.Value)}\""))}}}";

    public string Label(string name) => Labels.FirstOrDefault(l => l.Key == name).Value ?? "";
}

/// <summary>
/// The Prometheus text exposition format (version 0.0.4): rendering families of gauges with HELP and
/// TYPE lines, and reading samples back (from a textfile collector file or a Pushgateway).
/// </summary>
public static partial class PrometheusText
{
    public static string Render(IEnumerable<MetricSample> samples)
    {
        var text = new StringBuilder();
        foreach (var family in samples.GroupBy(s => s.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            if (MetricNames.Help.TryGetValue(family.Key, out var help))
            {
                text.Append("# HELP ").Append(family.Key).Append(' ').Append(help).Append('\n');
            }

            text.Append("# TYPE ").Append(family.Key).Append(" gauge\n");
            foreach (var sample in family.OrderBy(s => s.Series, StringComparer.Ordinal))
            {
                text.Append(sample.Series).Append(' ').Append(Format(sample.Value)).Append('\n');
            }
        }

        return text.ToString();
    }

    public static IReadOnlyList<MetricSample> Parse(string text)
    {
        var samples = new List<MetricSample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var match = SampleLine().Match(line);
            if (!match.Success)
            {
                throw new InvalidDataException($"Not a Prometheus sample line: {line}");
            }

            var labels = LabelPair().Matches(match.Groups["labels"].Value)
                .Select(m => new KeyValuePair<string, string>(m.Groups[1].Value, Unescape(m.Groups[2].Value)))
                .OrderBy(l => l.Key, StringComparer.Ordinal).ToList();
            samples.Add(new MetricSample(match.Groups["name"].Value, labels, ParseValue(match.Groups["value"].Value)));
        }

        return samples;
    }

    public static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Unescape(string value) => Regex.Replace(value, @"\\(.)", m => m.Groups[1].Value == "n" ? "\n" : m.Groups[1].Value);

    private static string Format(double value) => double.IsNaN(value) ? "NaN" : value.ToString("R", CultureInfo.InvariantCulture);

    private static double ParseValue(string text) => text switch
    {
        "NaN" => double.NaN,
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
