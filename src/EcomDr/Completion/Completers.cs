using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using EcomDr.Engine.Operations.Completion;

namespace EcomDr.Completion;

/// <summary>Backup ids of the repository, newest first, with kind, date and size in the tooltip; of -Kind's kinds when given.</summary>
public class BackupIdCompleter : IArgumentCompleter
{
    /// <summary>The kinds offered when the command line names none.</summary>
    protected virtual IReadOnlyCollection<string>? DefaultKinds => null;

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var kinds = KindsOf(fakeBoundParameters) ?? DefaultKinds;
        return CompletionScope.Of(fakeBoundParameters).Complete($"backups:{string.Join(",", kinds ?? [])}", wordToComplete,
            (context, ct) => RepositoryCompletions.BackupsAsync(context, kinds, ct));
    }

    private static IReadOnlyCollection<string>? KindsOf(IDictionary bound)
    {
        if (!bound.Contains("Kind") || bound["Kind"] is not { } value)
        {
            return null;
        }

        var raw = value is PSObject ps ? ps.BaseObject : value;
        var kinds = (raw is IEnumerable many and not string ? many.Cast<object>() : [raw]).Select(k => k?.ToString()).OfType<string>().Where(k => k.Length > 0).ToList();
        return kinds.Count == 0 ? null : kinds;
    }
}

/// <summary>Ids of full MySQL backups only (what Restore-MySqlDatabase restores).</summary>
public sealed class FullBackupIdCompleter : BackupIdCompleter
{
    protected override IReadOnlyCollection<string>? DefaultKinds => [Engine.Sources.MySql.Dump.DumpOptions.Kind];
}

/// <summary>Backup kinds: those EcomDr writes and those found in the repository.</summary>
public sealed class BackupKindCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        CompletionScope.Of(fakeBoundParameters).Complete("kinds", wordToComplete, RepositoryCompletions.KindsAsync);
}

/// <summary>The environments of the configuration, the default one first.</summary>
public sealed class EnvironmentCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        CompletionScope.Of(fakeBoundParameters).Complete("environments", wordToComplete, RepositoryCompletions.Environments);
}

/// <summary>The stores (repositories) of the environment, primary first.</summary>
public sealed class StoreCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var environment = fakeBoundParameters.Contains("Environment") ? fakeBoundParameters["Environment"]?.ToString() : null;
        return CompletionScope.Of(fakeBoundParameters).Complete("stores", wordToComplete, config => RepositoryCompletions.Stores(config, environment));
    }
}

/// <summary>The binlog files with shipped segments, newest first.</summary>
public sealed class BinlogFileCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        CompletionScope.Of(fakeBoundParameters).Complete("binlog-files", wordToComplete, RepositoryCompletions.BinlogFilesAsync);
}
