using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EcomDr.Engine.Config;

namespace EcomDr.Engine.Operations.Telemetry;

/// <summary>
/// Ships the signed job log's lines to Loki as they are (so that Test-DrJobLog -FromLoki verifies what
/// Loki holds), labelled source=ecomdr, host, environment, job and kind. A cursor beside the log
/// (&lt;log&gt;.loki) counts the lines Loki has: a push that fails leaves them for the next job, never
/// fails this one. Each entry's time is its line's millisecond plus its line number in nanoseconds, kept
/// strictly rising, so that Loki gives the lines back in the log's order even across a clock step, and a
/// repeated push of the same line is the same entry (Loki drops it as a duplicate).
/// </summary>
public static class JobLogLoki
{
    public const string Source = "ecomdr";
    private const int Batch = 500;

    /// <summary>Pushes the lines after the cursor; the lines still not in Loki afterwards (0 when all went).</summary>
    public static async Task<int> ShipAsync(string logPath, LokiConfig config, CancellationToken ct)
    {
        var full = Path.GetFullPath(logPath);
        if (!File.Exists(full))
        {
            return 0;
        }

        await using var gate = await FileLock.AcquireAsync(full + ".lock", ct).ConfigureAwait(false);
        var cursorPath = full + ".loki";
        var shipped = File.Exists(cursorPath) && int.TryParse(await File.ReadAllTextAsync(cursorPath, ct).ConfigureAwait(false), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        var lines = (await File.ReadAllLinesAsync(full, ct).ConfigureAwait(false)).Where(l => l.Length > 0).ToList();
        if (shipped > lines.Count)
        {
            shipped = 0; // a new log under the same name: from its start
        }

        if (shipped == lines.Count)
        {
            return 0;
        }

        var entries = Entries(lines);
        using var loki = new LokiClient(config);
        try
        {
            while (shipped < lines.Count)
            {
                var batch = entries.Skip(shipped).Take(Batch).ToList();
                await loki.PushAsync(batch, ct).ConfigureAwait(false);
                shipped += batch.Count;
                await File.WriteAllTextAsync(cursorPath + ".tmp", shipped.ToString(CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
                File.Move(cursorPath + ".tmp", cursorPath, overwrite: true);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !ct.IsCancellationRequested))
        {
            throw new LokiPushException(lines.Count - shipped, ex.Message, ex);
        }

        return 0;
    }

    /// <summary>The job log lines Loki holds for a host and environment between two times, in the log's order.</summary>
    public static async Task<IReadOnlyList<string>> ReadAsync(LokiConfig config, string host, string environment, DateTimeOffset since, DateTimeOffset until, CancellationToken ct)
    {
        using var loki = new LokiClient(config);
        var entries = await loki.QueryRangeAsync(Selector(host, environment), since, until, ct).ConfigureAwait(false);
        return entries.Select(e => e.Line).ToList();
    }

    /// <summary>The LogQL selector of one host's job log for an environment.</summary>
    public static string Selector(string host, string environment) =>
        $"{{source=\"{Source}\",host=\"{Escape(host)}\",environment=\"{Escape(environment)}\"}}";

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private static List<LokiEntry> Entries(IReadOnlyList<string> lines)
    {
        var entries = new List<LokiEntry>(lines.Count);
        var previous = 0L;
        Dictionary<string, string>? last = null;
        for (var i = 0; i < lines.Count; i++)
        {
            // A damaged line goes as it is, in the stream of the line before, so that Test-DrJobLog -FromLoki names it too.
            var (labels, at) = Parse(lines[i]) ?? (last ?? Labels(null), 0);
            var nanoseconds = Math.Max(at - at % 1_000_000 + (i + 1) % 1_000_000, previous + 1);
            entries.Add(new LokiEntry(labels, nanoseconds, lines[i]));
            (previous, last) = (nanoseconds, labels);
        }

        return entries;
    }

    private static (Dictionary<string, string> Labels, long Nanoseconds)? Parse(string line)
    {
        try
        {
            var json = JsonNode.Parse(line)!.AsObject();
            return (Labels(json), LokiClient.Nanoseconds(DateTimeOffset.Parse((string?)json["ts"] ?? "", CultureInfo.InvariantCulture)));
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or NullReferenceException)
        {
            return null;
        }
    }

    private static Dictionary<string, string> Labels(JsonObject? line)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["source"] = Source, ["host"] = Environment.MachineName };
        foreach (var label in new[] { "environment", "job", "kind" })
        {
            labels[label] = (string?)line?[label] ?? "";
        }

        return labels;
    }
}

/// <summary>A push to Loki failed; Pending lines wait for the next job.</summary>
public sealed class LokiPushException(int pending, string message, Exception inner) : Exception(message, inner)
{
    public int Pending { get; } = pending;
}
