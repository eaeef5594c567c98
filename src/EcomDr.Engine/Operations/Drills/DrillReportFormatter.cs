using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EcomDr.Engine.Operations.Drills;

/// <summary>
/// Drill reports for people (Markdown, HTML: the verdict first, then the phase timings with a bar
/// chart, then the checklist) and for machines (JSON, also the stored form).
/// </summary>
public static class DrillReportFormatter
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };

    public static string ToJson(DrillReport report) => JsonSerializer.Serialize(report, Json);

    public static DrillReport FromJson(string json) =>
        JsonSerializer.Deserialize<DrillReport>(json, Json) ?? throw new InvalidDataException("A drill report holds no JSON object.");

    public static string ToMarkdown(DrillReport r)
    {
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"# DR drill {r.Kind}: {r.Verdict}");
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $"- **RTO** {Duration(r.RtoSeconds)} (objective {Duration(r.RtoObjectiveSeconds)}): {(r.RtoSeconds <= r.RtoObjectiveSeconds ? "within" : "MISSED")}");
        if (r.PredictedRtoSeconds is { } predicted)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"- **Predicted RTO** {Duration(predicted)} by the RTO model (the previous drill's rates); measured {Duration(r.RtoSeconds)}");
        }

        s.AppendLine(CultureInfo.InvariantCulture, $"- **RPO** {(r.RpoSeconds is { } rpo ? Duration(rpo) : "not measured")} (objective {Duration(r.RpoObjectiveSeconds)}): {(r.RpoSeconds is { } p && p <= r.RpoObjectiveSeconds ? "within" : "MISSED")}");
        s.AppendLine(CultureInfo.InvariantCulture, $"- Checklist: {r.Checks.Count(c => c.Passed)} of {r.Checks.Count} passed{(r.Failures.Count > 0 ? $"; failed: {string.Join(", ", r.Failures.Select(f => f.Name))}" : "")}");
        s.AppendLine(CultureInfo.InvariantCulture, $"- Environment `{r.Environment}`, store `{r.Store}`, target {r.Target}");
        s.AppendLine(CultureInfo.InvariantCulture, $"- Started {r.Started:u}, finished {r.Finished:u}; reference point {r.ReferencePoint:u}");
        s.AppendLine(CultureInfo.InvariantCulture, $"- Restored from full backup {r.BackupId} and {r.Segments} binlog segment(s) to {r.RestoredTo} (last commit {r.LastRestoredCommit:u})");
        s.AppendLine(CultureInfo.InvariantCulture, $"- Drill {r.Id} on {r.Host}, EcomDr {r.ToolVersion}");
        s.AppendLine();
        s.AppendLine("## Phases");
        s.AppendLine();
        s.AppendLine("| phase | seconds | |");
        s.AppendLine("|---|---:|---|");
        var longest = Math.Max(0.001, r.Phases.Select(p => p.Seconds).DefaultIfEmpty(0).Max());
        foreach (var phase in r.Phases)
        {
            var bar = (int)Math.Round(30 * phase.Seconds / longest);
            s.AppendLine(CultureInfo.InvariantCulture, $"| {phase.Name} | {phase.Seconds:0.0} | {(bar > 0 ? $"`{new string('#', bar)}`" : "")} |");
        }

        s.AppendLine();
        s.AppendLine("## Checklist");
        s.AppendLine();
        s.AppendLine("| | check | evidence |");
        s.AppendLine("|---|---|---|");
        foreach (var check in r.Checks)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"| {(check.Passed ? "PASS" : "**FAIL**")} | {check.Name} | {check.Evidence.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal)} |");
        }

        return s.ToString();
    }

    public static string ToHtml(DrillReport r)
    {
        static string E(string text) => WebUtility.HtmlEncode(text);
        var s = new StringBuilder();
        var color = r.Passed ? "#1a7f37" : "#cf222e";
        s.AppendLine("<!DOCTYPE html>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<html lang=\"en\"><head><meta charset=\"utf-8\"><title>DR drill {r.Kind}: {r.Verdict}</title>");
        s.AppendLine("<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}td,th{padding:.3em .6em;border-bottom:1px solid #ddd;text-align:left}.bar{background:#0969da;height:.8em;display:inline-block}.fail{color:#cf222e;font-weight:bold}.pass{color:#1a7f37}</style></head><body>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<h1 style=\"color:{color}\">DR drill {r.Kind}: {r.Verdict}</h1>");
        s.AppendLine("<ul>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<li><b>RTO</b> {Duration(r.RtoSeconds)} (objective {Duration(r.RtoObjectiveSeconds)})</li>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<li><b>RPO</b> {(r.RpoSeconds is { } rpo ? Duration(rpo) : "not measured")} (objective {Duration(r.RpoObjectiveSeconds)})</li>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<li>Checklist: {r.Checks.Count(c => c.Passed)} of {r.Checks.Count} passed</li>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<li>Environment {E(r.Environment)}, store {E(r.Store)}, target {E(r.Target)}; started {r.Started:u}; reference point {r.ReferencePoint:u}</li>");
        s.AppendLine(CultureInfo.InvariantCulture, $"<li>Full backup {E(r.BackupId)}, {r.Segments} binlog segment(s), restored to {E(r.RestoredTo)}</li>");
        s.AppendLine("</ul><h2>Phases</h2><table><tr><th>phase</th><th>seconds</th><th></th></tr>");
        var longest = Math.Max(0.001, r.Phases.Select(p => p.Seconds).DefaultIfEmpty(0).Max());
        foreach (var phase in r.Phases)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"<tr><td>{E(phase.Name)}</td><td>{phase.Seconds:0.0}</td><td><span class=\"bar\" style=\"width:{Math.Round(20 * phase.Seconds / longest, 1)}em\"></span></td></tr>");
        }

        s.AppendLine("</table><h2>Checklist</h2><table><tr><th></th><th>check</th><th>evidence</th></tr>");
        foreach (var check in r.Checks)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"<tr><td class=\"{(check.Passed ? "pass" : "fail")}\">{(check.Passed ? "PASS" : "FAIL")}</td><td>{E(check.Name)}</td><td>{E(check.Evidence)}</td></tr>");
        }

        s.AppendLine(CultureInfo.InvariantCulture, $"</table><p>Drill {E(r.Id)} on {E(r.Host)}, EcomDr {E(r.ToolVersion)}.</p></body></html>");
        return s.ToString();
    }

    private static string Duration(double seconds) =>
        seconds >= 3600 ? $"{seconds / 3600:0.0} h" : seconds >= 60 ? $"{seconds / 60:0.0} min" : $"{seconds:0.0} s";
}
