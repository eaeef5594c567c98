using System.Management.Automation;
using EcomDr.Engine.Config;
using EcomDr.Engine.Operations.Telemetry;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Common;

/// <summary>
/// Base of cmdlets that read or write a backup repository. Without -Config they use the embedded
/// defaults (a local file-system repository and key file), overridable with -Repository and -KeyFile.
/// </summary>
public abstract class RepositoryCmdlet : EcomDrCmdlet
{
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Config { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.EnvironmentCompleter))]
    public string? Environment { get; set; }

    /// <summary>Repository name in the configuration: primary (default) or offsite.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.StoreCompleter))]
    public string Store { get; set; } = "primary";

    /// <summary>A repository location instead of the configured one: a folder, or s3://bucket/prefix.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Repository { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyFile { get; set; }

    /// <summary>Public signing keys to trust (auditors verifying without the key file).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? TrustedKey { get; set; }

    private EcomDrConfig? _config;

    /// <summary>The configuration file, or the embedded defaults; read once per command.</summary>
    private protected EcomDrConfig LoadConfig() =>
        _config ??= Run(() => ConnectionParameters.LoadConfig(Config is null ? null : GetUnresolvedProviderPathFromPSPath(Config), Environment));

    private protected OpenedRepository OpenRepository(bool forWriting = false, IReadOnlyList<string>? breakGlass = null)
    {
        if (forWriting)
        {
            Engine.Operations.Completion.CompletionCache.Shared.Invalidate();
        }

        var config = LoadConfig();
        var request = new RepositoryRequest(Store, Repository is null ? null : ResolveLocation(Repository),
            KeyFile is null ? null : GetUnresolvedProviderPathFromPSPath(KeyFile),
            TrustedKey?.Select(GetUnresolvedProviderPathFromPSPath).ToList(), breakGlass?.Select(GetUnresolvedProviderPathFromPSPath).ToList(), forWriting,
            ConnectionParameters.KeyServiceVariables(this, Run(() => config.GetEnvironment(Environment))));
        var opened = Run(() => OpenedRepository.Open(config, Environment, request));
        WriteVerbose($"Repository {opened.Context.Store.Name} at {opened.Context.Store.Location}, environment '{opened.Context.Environment}'.");
        return opened;
    }

    /// <summary>
    /// The environment's stores, primary first (or <paramref name="names"/>; only the opened one when
    /// -Repository points at a location), each as a context with the opened repository's keys.
    /// </summary>
    private protected IReadOnlyList<RepositoryContext> StoresOf(OpenedRepository repository, IReadOnlyList<string>? names)
    {
        var chosen = Repository is not null ? [repository.Context.Store.Name]
            : names ?? repository.Environment.Repositories.Keys.OrderBy(k => k != "primary").ThenBy(k => k, StringComparer.Ordinal).ToArray();
        return chosen.Select(name => string.Equals(name, repository.Context.Store.Name, StringComparison.OrdinalIgnoreCase)
            ? repository.Context : repository.Context.WithStore(Run(() => repository.OpenStore(name)))).ToList();
    }

    /// <summary>
    /// Runs a job's work and records its outcome through the telemetry component, success or failure
    /// (Ctrl+C included): metrics for alerts must see the runs that failed too.
    /// </summary>
    /// <summary>A -Label hashtable as the backup's labels (values as text; $null as empty).</summary>
    private protected static Dictionary<string, string>? LabelsOf(System.Collections.Hashtable? label) =>
        label?.Cast<System.Collections.DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => e.Value?.ToString() ?? "");

    private protected T RunJob<T>(OpenedRepository repository, string job, string kind, Func<CancellationToken, Task<T>> work, Func<T, JobResult> describe,
        Action? onTick = null)
    {
        var started = DateTimeOffset.UtcNow;
        var jobId = Guid.NewGuid().ToString("N");
        var context = repository.Context;
        Warn(TelemetryRecorder.StartAsync(repository.Environment.Telemetry, SignerOf(context), new JobOutcome(context.Environment, job, kind, context.Store.Name, started, started, true),
            jobId, CancellationToken.None).GetAwaiter().GetResult());
        // The engine's own exception, before Run turns it into an ErrorRecord, names what went wrong.
        Exception? failure = null;
        async Task<T> Tracked(CancellationToken ct)
        {
            try
            {
                return await work(ct).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                failure = ex;
                throw;
            }
        }

        T result;
        try
        {
            result = Run(Tracked, onTick);
        }
        catch (Exception ex)
        {
            var cause = failure ?? ex;
            var error = cause is OperationCanceledException or PipelineStoppedException ? "cancelled"
                : cause is Engine.Errors.EcomDrException known ? $"{known.ErrorId}: {known.Message}" : cause.Message;
            Record(repository, new JobOutcome(context.Environment, job, kind, context.Store.Name, started, DateTimeOffset.UtcNow, false, Error: error), jobId);
            throw;
        }

        var figures = describe(result);
        Record(repository, new JobOutcome(context.Environment, job, kind, context.Store.Name, started, DateTimeOffset.UtcNow, figures.Succeeded,
            figures.BytesStored, figures.Artifacts, WithKeyAge(repository, figures.Figures)), jobId);
        return result;
    }

    /// <summary>Records a job outcome (for jobs whose items fail one by one, as Copy-DrBackup's do).</summary>
    private protected void Record(OpenedRepository repository, JobOutcome outcome, string? jobId = null)
    {
        try
        {
            // Not cancellable: a cancelled job is recorded too.
            Warn(TelemetryRecorder.RecordAsync(repository.Environment.Telemetry, outcome, CancellationToken.None, SignerOf(repository.Context), jobId,
                (this as IJobCmdlet)?.PushgatewayUrl).GetAwaiter().GetResult());
        }
        catch (PipelineStoppedException)
        {
            // stopping: the warning cannot be written, the metrics were attempted
        }
    }

    /// <summary>
    /// A job that writes backups also reports the age of the key it wrote them under, and the limit, so
    /// the key-age alert needs no job of its own (a rotation that never ran still shows).
    /// </summary>
    private static IReadOnlyDictionary<string, double>? WithKeyAge(OpenedRepository repository, IReadOnlyDictionary<string, double>? figures)
    {
        if (repository.Context.SigningKey is not { } key)
        {
            return figures;
        }

        var limit = repository.Environment.LocalKey.RotateDays;
        return new Dictionary<string, double>(figures ?? new Dictionary<string, double>())
        {
            [MetricNames.KeyCreated] = key.Created.ToUnixTimeSeconds(),
            [MetricNames.KeyRotateObjective] = limit * 86400.0,
        };
    }

    private static Engine.Pipeline.Crypto.LocalKeyFile? SignerOf(RepositoryContext context) => context.JobLogSigner;

    private void Warn(IReadOnlyList<string> problems)
    {
        foreach (var problem in problems)
        {
            WriteWarning($"Metrics not recorded: {problem}");
        }
    }

    private string ResolveLocation(string location) =>
        location.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) ? location : GetUnresolvedProviderPathFromPSPath(location);

    private protected static string FormatBytes(long bytes) => Engine.Pipeline.IO.ByteSize.Format(bytes);
}

/// <summary>What a job run produced, for its metrics.</summary>
internal sealed record JobResult(bool Succeeded, long BytesStored = 0, int Artifacts = 0, IReadOnlyDictionary<string, double>? Figures = null);

