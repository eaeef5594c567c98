using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Operations.Drills;

namespace EcomDr.Commands;

/// <summary>Writes a drill report a person reads (Markdown, HTML) or a machine reads (JSON).</summary>
[Cmdlet(VerbsData.Export, "DrDrillReport", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportDrDrillReportCommand : EcomDrCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public DrillReport? Report { get; set; }

    /// <summary>The file to write. Default: drill-&lt;id&gt;.md/.json/.html in the current folder.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    [Parameter]
    [ValidateSet("Markdown", "Json", "Html")]
    public string Format { get; set; } = "Markdown";

    protected override void ProcessRecord()
    {
        var report = Report!;
        var extension = Format switch { "Json" => ".json", "Html" => ".html", _ => ".md" };
        var path = GetUnresolvedProviderPathFromPSPath(Path ?? $"{report.Id}{extension}");
        var text = Format switch
        {
            "Json" => DrillReportFormatter.ToJson(report),
            "Html" => DrillReportFormatter.ToHtml(report),
            _ => DrillReportFormatter.ToMarkdown(report),
        };
        if (!ShouldProcess(path, $"Write the {report.Kind} drill report ({report.Verdict}) as {Format}"))
        {
            return;
        }

        Run(() =>
        {
            File.WriteAllText(path, text);
            return true;
        });
        WriteObject(new FileInfo(path));
    }
}
