using System.Collections;
using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Config;
using EcomDr.Engine.Operations.Completion;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Completion;

/// <summary>
/// The repository a command line being completed points at (its -Config, -Environment, -Store,
/// -Repository and -KeyFile), and the cached answers for it. Completion never throws: a line that
/// does not yet name a readable repository simply offers nothing.
/// </summary>
internal sealed class CompletionScope
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private readonly string? _config;
    private readonly string? _environment;
    private readonly string _store;
    private readonly string? _repository;
    private readonly string? _keyFile;

    private CompletionScope(IDictionary bound)
    {
        _config = PathOf(bound, "Config");
        _environment = TextOf(bound, "Environment");
        _store = TextOf(bound, "Store") ?? "primary";
        var repository = TextOf(bound, "Repository");
        _repository = repository is null || repository.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) ? repository : Resolve(repository);
        _keyFile = PathOf(bound, "KeyFile");
    }

    public static CompletionScope Of(IDictionary bound) => new(bound);

    public IEnumerable<CompletionResult> Complete(string what, string wordToComplete, Func<EcomDrConfig, IReadOnlyList<CompletionItem>> items) =>
        Match(Cached(what, () => items(ConnectionParameters.LoadConfig(_config, _environment))), wordToComplete);

    public IEnumerable<CompletionResult> Complete(string what, string wordToComplete, Func<RepositoryContext, CancellationToken, Task<IReadOnlyList<CompletionItem>>> items) =>
        Match(Cached(what, () =>
        {
            using var opened = OpenedRepository.Open(ConnectionParameters.LoadConfig(_config, _environment), _environment,
                new RepositoryRequest(_store, _repository, _keyFile));
            using var patience = new CancellationTokenSource(Patience);
            return items(opened.Context, patience.Token).GetAwaiter().GetResult();
        }), wordToComplete);

    private IReadOnlyList<CompletionItem> Cached(string what, Func<IReadOnlyList<CompletionItem>> factory)
    {
        // The configuration's own time is part of the key: an edited file is read again.
        var configStamp = _config is not null && File.Exists(_config) ? File.GetLastWriteTimeUtc(_config).Ticks : 0;
        var key = string.Join("\u001f", what, _config, configStamp, _environment, _store, _repository, _keyFile);
        try
        {
            return CompletionCache.Shared.GetOrAdd(key, factory);
        }
        catch (Exception)
        {
            return Array.Empty<CompletionItem>();
        }
    }

    private static IEnumerable<CompletionResult> Match(IReadOnlyList<CompletionItem> items, string wordToComplete)
    {
        var typed = wordToComplete.Trim('\'', '"');
        foreach (var item in items.Where(i => i.Value.StartsWith(typed, StringComparison.OrdinalIgnoreCase)))
        {
            var text = item.Value.IndexOfAny([' ', '\'', '"', '$', '`', ';', ',', '(', ')', '{', '}', '@', '#']) >= 0 ? $"'{item.Value.Replace("'", "''")}'" : item.Value;
            yield return new CompletionResult(text, item.ListItem, CompletionResultType.ParameterValue, item.ToolTip);
        }
    }

    private static string? TextOf(IDictionary bound, string name) =>
        bound.Contains(name) && bound[name] is { } value && (value is PSObject ps ? ps.BaseObject : value).ToString() is { Length: > 0 } text ? text : null;

    private static string? PathOf(IDictionary bound, string name) => TextOf(bound, name) is { } path ? Resolve(path) : null;

    /// <summary>Relative to the session's current folder, as the cmdlet itself will resolve it.</summary>
    private static string Resolve(string path)
    {
        string current;
        try
        {
            // Completers run on the session's thread; a script block sees its location (the runspace proxy does not while a pipeline runs).
            current = ScriptBlock.Create("$ExecutionContext.SessionState.Path.CurrentFileSystemLocation.ProviderPath").Invoke().FirstOrDefault()?.BaseObject as string
                ?? System.Environment.CurrentDirectory;
        }
        catch (Exception)
        {
            current = System.Environment.CurrentDirectory;
        }

        if (path.StartsWith('~'))
        {
            path = System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile) + path[1..];
        }

        return Path.GetFullPath(path, current);
    }
}
