using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Sources.MySql.Prerequisites;

/// <summary>Connects once, reads the server's facts and judges them.</summary>
public static class PrerequisiteChecker
{
    public static async Task<IReadOnlyList<PrerequisiteResult>> RunAsync(
        MySqlEndpoint endpoint, PrerequisiteOptions options, CancellationToken cancellationToken)
    {
        await using var connection = await MySqlConnections.OpenAsync(endpoint, cancellationToken).ConfigureAwait(false);
        var facts = await ServerFacts.ReadAsync(connection, cancellationToken).ConfigureAwait(false);
        return PrerequisiteRules.Evaluate(endpoint.Display, facts, options);
    }
}
