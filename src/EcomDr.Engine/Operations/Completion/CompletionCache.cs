namespace EcomDr.Engine.Operations.Completion;

/// <summary>
/// Completion answers per repository, kept for a short time so that pressing Tab again does not
/// list and verify every manifest of a remote store again. A write by this process drops them all,
/// so a backup taken in the session is offered at once.
/// </summary>
public sealed class CompletionCache
{
    private readonly Dictionary<string, (DateTimeOffset At, IReadOnlyList<CompletionItem> Items)> _entries = new(StringComparer.Ordinal);
    private readonly Func<DateTimeOffset> _clock;
    private readonly object _gate = new();

    public CompletionCache(TimeSpan lifetime, Func<DateTimeOffset>? clock = null)
    {
        Lifetime = lifetime;
        _clock = clock ?? (() => DateTimeOffset.UtcNow);
    }

    /// <summary>The one cache of the process (a pwsh session).</summary>
    public static CompletionCache Shared { get; } = new(TimeSpan.FromMinutes(2));

    public TimeSpan Lifetime { get; }

    /// <summary>The cached answer for <paramref name="key"/>, or the factory's, which is then cached. A failing factory caches nothing.</summary>
    public IReadOnlyList<CompletionItem> GetOrAdd(string key, Func<IReadOnlyList<CompletionItem>> factory)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var entry) && _clock() - entry.At < Lifetime)
            {
                return entry.Items;
            }
        }

        var items = factory();
        lock (_gate)
        {
            _entries[key] = (_clock(), items);
        }

        return items;
    }

    /// <summary>Forgets every answer (after this process wrote to or removed from a repository).</summary>
    public void Invalidate()
    {
        lock (_gate)
        {
            _entries.Clear();
        }
    }
}
