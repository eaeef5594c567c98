using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Operations.Telemetry;

/// <summary>One problem Test-DrJobLog found: the line (1-based) and what is wrong with it.</summary>
public sealed record JobLogProblem(int Line, string Problem)
{
    public override string ToString() => $"line {Line}: {Problem}";
}

/// <summary>What Test-DrJobLog found in a job log.</summary>
public sealed record JobLogReport(string Path, int Lines, int Jobs, bool Passed, IReadOnlyList<JobLogProblem> Problems, string? LastHash);

/// <summary>
/// The signed job log: JSON lines (one per job step: started, finished, failed) that go to Loki as they
/// are (JobLogLoki, or Promtail), labelled by environment, job and kind. Each line names the SHA-256 of the line
/// before it ("prev"; "genesis" for the first) and ends with an ECDSA P-256 signature ("sig", by the
/// repository's signing key "keyId") over the line without its signature. A removed, reordered,
/// inserted or edited line breaks the chain or a signature; verifying needs only the public key.
/// Secrets never reach it: it holds names, times, figures and error messages (which carry none).
/// </summary>
public static class JobLog
{
    public const string Genesis = "genesis";
    private const string SignatureField = ",\"sig\":\"";

    /// <summary>Appends one signed line, chained to the file's last line; a lock file serializes concurrent jobs.</summary>
    public static async Task AppendAsync(string path, LocalKeyFile signer, JobOutcome outcome, string jobId, string step, CancellationToken ct)
    {
        var full = System.IO.Path.GetFullPath(path);
        var folder = System.IO.Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
        {
            Pipeline.IO.OwnerOnly.CreateDirectory(folder, System.IO.Path.GetDirectoryName(folder) ?? folder);
        }

        await using var gate = await FileLock.AcquireAsync(full + ".lock", ct).ConfigureAwait(false);
        var previous = await LastLineAsync(full, ct).ConfigureAwait(false);
        var line = new JsonObject
        {
            ["ts"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
            ["jobId"] = jobId,
            ["environment"] = outcome.Environment,
            ["job"] = outcome.Job,
            ["kind"] = outcome.Kind,
            ["store"] = outcome.Store,
            ["step"] = step,
            ["outcome"] = step == "started" ? null : outcome.Succeeded ? "success" : "failure",
            ["durationSeconds"] = step == "started" ? null : Math.Round(outcome.DurationSeconds, 3),
            ["bytesStored"] = step == "started" ? null : outcome.BytesStored,
            ["figures"] = outcome.Figures is { Count: > 0 } f ? new JsonObject(f.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))) : null,
            ["error"] = outcome.Error,
            ["prev"] = previous is null ? Genesis : Hash(previous),
            ["keyId"] = signer.SigningKeyId,
        };
        var body = line.ToJsonString();
        var signature = Convert.ToBase64String(signer.Signing.SignData(Encoding.UTF8.GetBytes(body), HashAlgorithmName.SHA256));
        var signed = body[..^1] + SignatureField + signature + "\"}\n";
        await File.AppendAllTextAsync(full, signed, new UTF8Encoding(false), ct).ConfigureAwait(false);
        Pipeline.IO.OwnerOnly.Restrict(full);
    }

    /// <summary>Checks every line: JSON, signature by a trusted key, and the chain to the line before.</summary>
    public static async Task<JobLogReport> VerifyAsync(string path, TrustedKeys trust, CancellationToken ct)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new Errors.EcomDrException(Errors.ErrorIds.ArtifactMissing, Errors.FailureKind.ObjectNotFound, $"No job log at {full}.", full);
        }

        var text = await File.ReadAllTextAsync(full, ct).ConfigureAwait(false);
        var lines = text.Split('\n');
        var count = text.EndsWith('\n') ? lines.Length - 1 : lines.Length;
        var problems = new List<JobLogProblem>();
        if (text.Length > 0 && !text.EndsWith('\n'))
        {
            problems.Add(new JobLogProblem(count, "the last line is incomplete: a write was cut off, or the file was truncated"));
        }

        return Verify(full, lines.Take(count).ToList(), trust, fromStart: true, problems);
    }

    /// <summary>
    /// Checks lines in their order (read from a file, or back from Loki). fromStart: the first line must
    /// start the chain; lines read back from Loki may start later (its retention drops the oldest), and are
    /// checked from the first one on.
    /// </summary>
    public static JobLogReport Verify(string source, IReadOnlyList<string> lines, TrustedKeys trust, bool fromStart, List<JobLogProblem>? problems = null)
    {
        problems ??= new List<JobLogProblem>();
        var count = lines.Count;
        string? previous = null;
        var jobs = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var line = lines[i];
            var number = i + 1;
            var at = line.LastIndexOf(SignatureField, StringComparison.Ordinal);
            JsonObject? json = null;
            try
            {
                json = JsonNode.Parse(line)?.AsObject();
            }
            catch (JsonException)
            {
            }

            if (json is null || at < 0 || !line.EndsWith("\"}", StringComparison.Ordinal))
            {
                problems.Add(new JobLogProblem(number, "not a signed job log line"));
                previous = line;
                continue;
            }

            jobs.Add((string?)json["jobId"] ?? "");
            var expected = previous is null ? Genesis : Hash(previous);
            if ((string?)json["prev"] != expected && (previous is not null || fromStart))
            {
                problems.Add(new JobLogProblem(number, previous is null
                    ? "the first line does not start the chain: lines before it were removed"
                    : "it does not follow the line before it: a line was removed, inserted or reordered here, or the line before was edited"));
            }

            var keyId = (string?)json["keyId"] ?? "";
            var body = line[..at] + "}";
            if (trust.Find(keyId) is not { } key)
            {
                problems.Add(new JobLogProblem(number, $"signed by {keyId}, which is not a trusted key"));
            }
            else
            {
                bool valid;
                try
                {
                    valid = key.VerifyData(Encoding.UTF8.GetBytes(body), Convert.FromBase64String((string?)json["sig"] ?? ""), HashAlgorithmName.SHA256);
                }
                catch (FormatException)
                {
                    valid = false;
                }

                if (!valid)
                {
                    problems.Add(new JobLogProblem(number, "its signature does not verify: the line was edited"));
                }
            }

            previous = line;
        }

        return new JobLogReport(source, count, jobs.Count, problems.Count == 0, problems, previous is null ? null : Hash(previous));
    }

    private static string Hash(string line) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(line))).ToLowerInvariant();

    private static async Task<string?> LastLineAsync(string path, CancellationToken ct)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        // The last line only: read back from the end, so a long log costs no more than a short one.
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 4096, useAsync: true);
        var take = (int)Math.Min(file.Length, 64 * 1024);
        var buffer = new byte[take];
        file.Seek(-take, SeekOrigin.End);
        await file.ReadExactlyAsync(buffer, ct).ConfigureAwait(false);
        var text = Encoding.UTF8.GetString(buffer).TrimEnd('\n');
        var start = text.LastIndexOf('\n');
        return text.Length == 0 ? null : text[(start + 1)..];
    }
}
