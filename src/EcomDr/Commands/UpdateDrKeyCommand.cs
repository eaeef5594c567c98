using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Operations.Keys;
using EcomDr.Engine.Operations.Telemetry;
using EcomDr.Engine.Pipeline.Crypto;

namespace EcomDr.Commands;

/// <summary>
/// Rotates the environment's keys: -NewVersion adds a version to the local key file (a new wrapping key
/// and a new signing key), then every backup in the environment's stores is re-wrapped under the
/// current versions and signed again. Artifacts are never re-encrypted. Without -NewVersion it resumes
/// (or repeats, harmlessly) the re-wrap; -Check only reports; -RemoveUnused then drops the versions no
/// backup needs any more.
/// </summary>
[Cmdlet(VerbsData.Update, "DrKey", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(KeyRewrapResult))]
public sealed class UpdateDrKeyCommand : RepositoryCmdlet, IJobCmdlet
{
    /// <summary>Add a version to the local key file before re-wrapping.</summary>
    [Parameter]
    public SwitchParameter NewVersion { get; set; }

    /// <summary>Rotate the Transit keys too (keys/&lt;key&gt;/rotate) before re-wrapping; needs update on that path.</summary>
    [Parameter]
    public SwitchParameter RotateKeyService { get; set; }

    /// <summary>Report which key versions the backups carry; change nothing.</summary>
    [Parameter]
    public SwitchParameter Check { get; set; }

    /// <summary>After re-wrapping every configured store, remove the local key versions that no backup carries.</summary>
    [Parameter]
    public SwitchParameter RemoveUnused { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PushgatewayUrl { get; set; }

    protected override void EndProcessing()
    {
        if (Check && (NewVersion || RemoveUnused || RotateKeyService))
        {
            Fail(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, "-Check changes nothing; it cannot be combined with -NewVersion, -RotateKeyService or -RemoveUnused.", null);
        }

        var narrowed = MyInvocation.BoundParameters.ContainsKey(nameof(Store)) || Repository is not null;
        if (RemoveUnused && narrowed)
        {
            Fail(ErrorIds.InvalidArgument, FailureKind.InvalidArgument,
                "-RemoveUnused needs every configured store examined (a version another store still needs must stay); leave out -Store and -Repository.", null);
        }

        var keyPath = KeyPath();
        var rotated = false;
        if (NewVersion)
        {
            using var before = Run(() => LocalKeyFile.Load(keyPath));
            if (ShouldProcess(keyPath, $"Add key version {before.CurrentVersion + 1}; versions {string.Join(", ", before.Versions.Select(v => v.Version))} stay to unwrap until every backup is re-wrapped"))
            {
                using var after = Run(before.AddVersion);
                WriteVerbose($"{keyPath}: version {after.CurrentVersion} ({after.KeyId}, signing {after.SigningKeyId}) added.");
                rotated = true;
            }
        }

        using var repository = OpenRepository(forWriting: !Check);
        if (RotateKeyService)
        {
            foreach (var transit in repository.Context.WrappingProviders.OfType<VaultTransitKey>())
            {
                if (ShouldProcess($"{transit.Server}{transit.Mount}/keys/{transit.Name}", "Rotate the Transit key (a new latest version)"))
                {
                    Run(async ct =>
                    {
                        await transit.RotateAsync(ct).ConfigureAwait(false);
                        return true;
                    });
                    WriteVerbose($"Transit key {transit.KeyId} at {transit.Server}: version {transit.CurrentVersion} is now the latest.");
                    rotated = true;
                }
            }
        }

        var checkOnly = Check || IsWhatIf || ((NewVersion || RotateKeyService) && !rotated);
        var results = new List<KeyRewrapResult>();
        var declined = new List<string>();
        foreach (var context in StoresOf(repository, MyInvocation.BoundParameters.ContainsKey(nameof(Store)) ? [Store] : null))
        {
            if (!checkOnly && !ShouldProcess(context.Store.Location, "Re-wrap the data keys of every backup still under an older key version and sign its manifest again"))
            {
                declined.Add(context.Store.Name);
                continue;
            }

            var progress = new LatestProgress<string>();
            var activity = $"{(checkOnly ? "Checking" : "Re-wrapping")} key versions in {context.Store.Name}";
            var started = DateTimeOffset.UtcNow;
            var result = Run(ct => KeyRewrap.RunAsync(context, checkOnly, progress.Report, ct, asIfRotated: NewVersion && !rotated), () => Draw(progress, activity));
            if (!checkOnly)
            {
                // The run's outcome per store: its last success is the "last rotation" the alerts read.
                Record(repository, new JobOutcome(context.Environment, "key-rotation", "all", context.Store.Name, started, DateTimeOffset.UtcNow,
                    result.Unreadable.Count == 0, Figures: new Dictionary<string, double>
                    {
                        [MetricNames.KeyRewrapped] = result.Rewrapped,
                        [MetricNames.KeyPending] = result.Pending + result.Unreadable.Count,
                    }));
            }

            WriteProgress(new ProgressRecord(1, activity, "done") { RecordType = ProgressRecordType.Completed });
            foreach (var problem in result.Unreadable)
            {
                WriteWarning($"Not re-wrapped: {problem}");
            }

            foreach (var note in result.Notes)
            {
                if (note.Problem)
                {
                    WriteWarning(note.Message);
                }
                else
                {
                    WriteVerbose(note.Message);
                }
            }

            if (result.IndexProblem is { } index)
            {
                WriteWarning($"{index}. The next listing reads every manifest.");
            }

            results.Add(result);
            WriteObject(result);
        }

        if (RemoveUnused && !IsWhatIf)
        {
            if (declined.Count > 0)
            {
                Fail(ErrorIds.KeyInUse, FailureKind.InvalidOperation,
                    $"No key version was removed: {string.Join(", ", declined)} was not examined, and may still need an older version.", keyPath);
            }

            RemoveUnusedVersions(keyPath, results);
        }
    }

    private void RemoveUnusedVersions(string keyPath, IReadOnlyList<KeyRewrapResult> results)
    {
        if (results.FirstOrDefault(r => r.Unreadable.Count > 0 || r.Pending > 0) is { } incomplete)
        {
            Fail(ErrorIds.KeyInUse, FailureKind.InvalidOperation,
                $"No key version was removed: {incomplete.Store} still has {incomplete.Pending} backup(s) to re-wrap and {incomplete.Unreadable.Count} it could not read, which may need an older version.",
                keyPath);
        }

        using var key = Run(() => LocalKeyFile.Load(keyPath));
        var used = results.SelectMany(r => r.Usage).Where(u => u.Provider == LocalKeyFile.ProviderName).Select(u => u.KeyId).ToHashSet(StringComparer.Ordinal);
        var unused = key.Versions.Where(v => v.Version != key.CurrentVersion && !used.Contains(v.KeyId)).Select(v => v.Version).ToHashSet();
        if (unused.Count == 0)
        {
            WriteVerbose($"{keyPath}: every version still held is in use.");
            return;
        }

        if (ShouldProcess(keyPath, $"Remove key version(s) {string.Join(", ", unused.Order())}: no backup in {string.Join(", ", results.Select(r => r.Store))} needs them (their public signing keys stay trusted)"))
        {
            using var pruned = Run(() => key.RemoveVersions(unused));
            WriteVerbose($"{keyPath}: versions {string.Join(", ", pruned.Versions.Select(v => v.Version))} kept.");
        }
    }

    private string KeyPath()
    {
        if (KeyFile is not null)
        {
            return GetUnresolvedProviderPathFromPSPath(KeyFile);
        }

        var config = LoadConfig();
        return Run(() => config.GetEnvironment(Environment)).LocalKey.Path;
    }

    private void Draw(LatestProgress<string> progress, string activity)
    {
        if (progress.TryGet(out var status))
        {
            WriteProgress(new ProgressRecord(1, activity, status));
        }
    }
}
