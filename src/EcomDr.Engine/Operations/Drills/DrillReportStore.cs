using System.Text;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Operations.Drills;

/// <summary>
/// Drill reports kept in the repository as backups of kind drill-report (the JSON report as one
/// encrypted artifact under a signed manifest), so the history of drills is as trustworthy as the
/// backups and travels with them.
/// </summary>
public static class DrillReportStore
{
    public const string Kind = BackupKinds.DrillReport;

    public static async Task<BackupInfo> SaveAsync(RepositoryContext context, DrillReport report, CancellationToken ct)
    {
        await using var writer = await BackupWriter.BeginAsync(context, Kind, new Dictionary<string, string> { ["drill"] = report.Kind.ToString(), ["verdict"] = report.Verdict }, ct)
            .ConfigureAwait(false);
        writer.Source["drillId"] = report.Id;
        writer.Source["drillKind"] = report.Kind.ToString();
        writer.Stats["passed"] = report.Passed;
        writer.Stats["rtoSeconds"] = report.RtoSeconds;
        writer.Stats["rpoSeconds"] = report.RpoSeconds;
        var bytes = Encoding.UTF8.GetBytes(DrillReportFormatter.ToJson(report));
        await writer.AddArtifactAsync("report.json", (stream, token) => stream.WriteAsync(bytes, token).AsTask(), ct).ConfigureAwait(false);
        return await writer.CompleteAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Every stored report, oldest first (each one's manifest signature and artifact hashes checked).</summary>
    public static async Task<IReadOnlyList<DrillReport>> ListAsync(RepositoryContext context, CancellationToken ct)
    {
        var reports = new List<DrillReport>();
        foreach (var backup in (await BackupCatalog.ListAsync(context, Kind, ct).ConfigureAwait(false)).Where(b => b.Status == BackupStatus.Complete).OrderBy(b => b.Created))
        {
            var artifact = backup.Manifest!.Artifacts.Single(a => a.Name == "report.json");
            await using var stream = await ArtifactReader.OpenAsync(context.Store, backup.Prefix + artifact.Path, artifact, context.KeyProviders, ct).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            reports.Add(DrillReportFormatter.FromJson(await reader.ReadToEndAsync(ct).ConfigureAwait(false)));
        }

        return reports;
    }
}
