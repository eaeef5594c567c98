using EcomDr.Engine.Operations.Completion;

namespace EcomDr.Engine.Tests.Operations.Completion;

/// <summary>The completion cache on a clock the test moves: kept for its lifetime, dropped after it or on a write, never keeps a failure.</summary>
public sealed class CompletionCacheTests
{
    private DateTimeOffset _now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Answers_from_the_cache_within_its_lifetime_and_asks_again_after_it()
    {
        var cache = new CompletionCache(TimeSpan.FromMinutes(2), () => _now);
        var calls = 0;
        IReadOnlyList<CompletionItem> Factory() => [new CompletionItem($"id-{++calls}", "x", "y")];

        Assert.Equal("id-1", cache.GetOrAdd("k", Factory)[0].Value);
        _now = _now.AddSeconds(119);
        Assert.Equal("id-1", cache.GetOrAdd("k", Factory)[0].Value);
        Assert.Equal("id-2", cache.GetOrAdd("other", Factory)[0].Value);
        _now = _now.AddSeconds(1);
        Assert.Equal("id-3", cache.GetOrAdd("k", Factory)[0].Value);
    }

    [Fact]
    public void A_write_drops_every_answer_and_a_failure_is_not_cached()
    {
        var cache = new CompletionCache(TimeSpan.FromMinutes(2), () => _now);
        var calls = 0;
        IReadOnlyList<CompletionItem> Factory() => [new CompletionItem($"id-{++calls}", "x", "y")];
        cache.GetOrAdd("k", Factory);
        cache.Invalidate();
        Assert.Equal("id-2", cache.GetOrAdd("k", Factory)[0].Value);

        Assert.Throws<IOException>(() => cache.GetOrAdd("bad", () => throw new IOException("store down")));
        Assert.Equal("id-3", cache.GetOrAdd("bad", Factory)[0].Value);
    }
}
