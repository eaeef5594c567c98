namespace EcomDr.Engine.Operations.Telemetry;

/// <summary>
/// A node_exporter textfile collector file (*.prom). Each job replaces its own series and keeps every
/// other job's; the file is written beside itself and renamed over the old one, so the collector
/// never reads half a file. A lock file keeps two jobs from interleaving their read and write.
/// </summary>
public static class TextfileSink
{
    public static async Task WriteAsync(string path, IReadOnlyList<MetricSample> samples, CancellationToken ct)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        await using var gate = await FileLock.AcquireAsync(path + ".lock", ct).ConfigureAwait(false);
        var merged = new Dictionary<string, MetricSample>(StringComparer.Ordinal);
        if (File.Exists(path))
        {
            foreach (var old in PrometheusText.Parse(await File.ReadAllTextAsync(path, ct).ConfigureAwait(false)))
            {
                merged[old.Series] = old;
            }
        }

        foreach (var sample in samples)
        {
            merged[sample.Series] = sample;
        }

        // The collector reads only *.prom: the temporary name must not end so.
        var temporary = Path.Combine(folder, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        await File.WriteAllTextAsync(temporary, PrometheusText.Render(merged.Values), ct).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }

    public static async Task<IReadOnlyList<MetricSample>> ReadAsync(string path, CancellationToken ct) =>
        File.Exists(path) ? PrometheusText.Parse(await File.ReadAllTextAsync(path, ct).ConfigureAwait(false)) : Array.Empty<MetricSample>();
}
