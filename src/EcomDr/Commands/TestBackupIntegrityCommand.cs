using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Operations.Telemetry;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Commands;

/// <summary>Verifies a backup's manifest signature and every artifact's hash; -Deep also decrypts and decompresses.</summary>
[Cmdlet(VerbsDiagnostic.Test, "BackupIntegrity")]
[OutputType(typeof(IntegrityReport))]
public sealed class TestBackupIntegrityCommand : RepositoryCmdlet, IJobCmdlet
{
    /// <summary>Push this job's metrics to this Pushgateway (before ECOMDR_PUSHGATEWAY_URL and the configuration's telemetry.pushgatewayUrl).</summary>
    [Parameter]
    [ValidatePattern("^https?://")]
    public string? PushgatewayUrl { get; set; }

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [Alias("BackupId")]
    [ArgumentCompleter(typeof(EcomDr.Completion.BackupIdCompleter))]
    public string Id { get; set; } = "";

    /// <summary>Also authenticate every frame, decompress and check the plaintext SHA-256 (needs the key).</summary>
    [Parameter]
    public SwitchParameter Deep { get; set; }

    protected override void ProcessRecord()
    {
        using var repository = OpenRepository();
        var context = repository.Context;
        var backup = Run(ct => BackupCatalog.GetAsync(context, Id, ct, allowUnusable: true));
        if (backup.Status == BackupStatus.Incomplete)
        {
            WriteFailure(ErrorIds.BackupIncomplete, FailureKind.InvalidData, $"Backup {Id} has no manifest: it never completed.", Id);
            return;
        }

        var progress = new LatestProgress<(string Artifact, long Bytes)>();
        var activity = $"{(Deep ? "Deep-verifying" : "Verifying")} {backup.Kind} backup {Id} in {context.Store.Name}";
        var report = RunJob(repository, "integrity-test", backup.Kind, ct => BackupVerifier.VerifyAsync(context, backup.Kind, Id, Deep, progress, ct),
            r => new JobResult(r.Status == IntegrityStatus.Passed, Figures: new Dictionary<string, double> { [MetricNames.IntegrityFailures] = r.FailedCount }), () =>
        {
            if (progress.TryGet(out var p))
            {
                WriteProgress(new ProgressRecord(1, activity, $"{p.Artifact}: {FormatBytes(p.Bytes)}"));
            }
        });
        CompleteProgress(1, activity);

        if (report.ManifestErrorId is { } manifestError)
        {
            WriteFailure(manifestError, FailureKind.InvalidData, report.ManifestProblem!, Id);
        }

        foreach (var failed in report.Artifacts.Where(a => a.Status == IntegrityStatus.Failed))
        {
            WriteFailure(failed.ErrorId!, FailureKind.InvalidData, failed.Problem!, failed.Name);
        }

        WriteVerbose($"{Id}: {report.Status}, {report.Artifacts.Count} artifact(s), {FormatBytes(report.BytesChecked)} in {report.Elapsed.TotalSeconds:0.0} s.");
        WriteObject(report);
    }
}
