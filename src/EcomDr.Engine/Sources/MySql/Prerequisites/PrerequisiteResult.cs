namespace EcomDr.Engine.Sources.MySql.Prerequisites;

/// <summary>One check of a server: what was seen, what is expected and how to fix it.</summary>
public sealed record PrerequisiteResult(
    string Server,
    string Check,
    CheckStatus Status,
    string Observed,
    string Expected,
    string Remediation);
