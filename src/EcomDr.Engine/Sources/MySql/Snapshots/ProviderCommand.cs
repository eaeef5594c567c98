using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace EcomDr.Engine.Sources.MySql.Snapshots;

/// <summary>What a provider command did: its exit code and its output, secrets already masked.</summary>
public sealed record ProviderCommandResult(int ExitCode, string StandardOutput, string StandardError);

/// <summary>
/// Runs a snapshot provider's command (an admin's script or a cloud CLI) without a shell: arguments
/// as given, facts in the environment, output read as it comes, up to <see cref="MaxOutput"/>
/// characters each. Cancelling (the freeze's -MaxFreeze, Ctrl+C) kills the process and its children.
/// Output never leaves without masking: the secret values the caller knows, and common token shapes.
/// </summary>
public static partial class ProviderCommand
{
    public const int MaxOutput = 64 * 1024;

    public static async Task<ProviderCommandResult> RunAsync(string file, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment,
        IReadOnlyCollection<string> secrets, CancellationToken ct)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = new Process { StartInfo = start };
        process.Start();
        process.StandardInput.Close();
        var (stdout, stderr) = (new StringBuilder(), new StringBuilder());
        var reading = Task.WhenAll(ReadBoundedAsync(process.StandardOutput, stdout), ReadBoundedAsync(process.StandardError, stderr));
        // Reads cut short by a kill, or by the process object's disposal after the grace period, end in an error nobody needs.
        _ = reading.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        try
        {
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // it ended meanwhile
            }

            throw;
        }

        // A child it left running in the background may hold the pipes open: what came within a grace period is the output.
        await Task.WhenAny(reading, Task.Delay(OutputGrace, ct)).ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        string Take(StringBuilder text)
        {
            lock (text)
            {
                return Mask(text.ToString(), secrets);
            }
        }

        return new ProviderCommandResult(process.ExitCode, Take(stdout), Take(stderr));
    }

    /// <summary>The text with each known secret value, and anything shaped like a common token, replaced by ***.</summary>
    public static string Mask(string text, IReadOnlyCollection<string> secrets)
    {
        foreach (var secret in secrets.Where(s => s.Length >= 4).OrderByDescending(s => s.Length))
        {
            text = text.Replace(secret, "***", StringComparison.Ordinal);
        }

        return TokenShapes().Replace(text, m => m.Groups["keep"].Success ? m.Groups["keep"].Value + "***" : "***");
    }

    private static readonly TimeSpan OutputGrace = TimeSpan.FromSeconds(5);

    private static async Task ReadBoundedAsync(StreamReader reader, StringBuilder text)
    {
        var buffer = new char[4096];
        int n;
        while ((n = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            // Keep reading past the limit so that the process never blocks on a full pipe.
            lock (text)
            {
                text.Append(buffer, 0, Math.Min(n, Math.Max(0, MaxOutput - text.Length)));
            }
        }
    }

    // AWS access key ids, Vault tokens, GitHub and Slack tokens, and the values of password=, secret=,
    // token= (also as the end of a name: DB_PASSWORD=).
    [GeneratedRegex(@"\bAKIA[0-9A-Z]{16}\b|\bhv[sbr]\.[A-Za-z0-9_\-]{20,}|\bgh[pousr]_[A-Za-z0-9]{20,}|\bxox[abprs]-[A-Za-z0-9\-]{10,}|(?<keep>(?<![A-Za-z])(?:password|passwd|secret|token)\s*[=:]\s*)\S+", RegexOptions.IgnoreCase)]
    private static partial Regex TokenShapes();
}
