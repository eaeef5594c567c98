namespace EcomDr.Engine.Sources.Files.Git;

/// <summary>What a work tree's git state says about the files backed up: commit, branch, describe-style tag, dirty.</summary>
public sealed record GitState(string WorkTree, string? Commit, string? Branch, string? Describe, bool Dirty)
{
    /// <summary>The labels a file backup records: gitCommit, gitBranch, gitTag, gitDirty.</summary>
    public IReadOnlyDictionary<string, string> Labels()
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Commit is not null)
        {
            labels["gitCommit"] = Commit;
        }

        if (Branch is not null)
        {
            labels["gitBranch"] = Branch;
        }

        if (Describe is not null)
        {
            labels["gitTag"] = Describe;
        }

        labels["gitDirty"] = Dirty ? "true" : "false";
        return labels;
    }
}

/// <summary>
/// Reads a work tree's git state natively (no git binary): HEAD and its branch, the tag "git describe
/// --tags --abbrev=7" would give (the tag itself on a tagged commit, else tag-N-gabbrev with N the commits
/// of HEAD that the tag does not hold, the nearest tag by that count), and whether a tracked file differs
/// between HEAD, the index and the work tree.
/// </summary>
public static class GitLabels
{
    private const int MaxCommits = 200_000;

    /// <summary>The git state of the work tree holding <paramref name="path"/>; null outside one, or when it cannot be read.</summary>
    public static GitState? Read(string path)
    {
        var repository = GitRepository.Find(path);
        if (repository is null)
        {
            return null;
        }

        try
        {
            var (branch, commit) = repository.Head();
            var describe = commit is null ? null : Describe(repository, commit);
            return new GitState(repository.WorkTree, commit, branch, describe, GitIndex.IsDirty(repository, commit));
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or FormatException or ArgumentException or IndexOutOfRangeException)
        {
            return null; // a repository this reader cannot follow gives no labels rather than wrong ones
        }
    }

    private static string? Describe(GitRepository repository, string head)
    {
        var tags = repository.Tags().GroupBy(t => t.Commit, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(t => t.Name).Max(StringComparer.Ordinal)!, StringComparer.Ordinal);
        if (tags.Count == 0)
        {
            return null;
        }

        if (tags.TryGetValue(head, out var exact))
        {
            return exact;
        }

        // As git describe does: the tagged commits met first walking back from HEAD (ten at most) are the
        // candidates, and the one with the fewest commits of HEAD it does not hold wins.
        var parents = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        IReadOnlyList<string> ParentsOf(string c) => parents.TryGetValue(c, out var known) ? known : parents[c] = repository.Parents(c);
        var mine = Ancestors(head, ParentsOf);
        (string Name, int Depth)? best = null;
        foreach (var commit in mine.Order.Where(tags.ContainsKey).Take(10))
        {
            var theirs = Ancestors(commit, ParentsOf).Set;
            var depth = mine.Set.Count(c => !theirs.Contains(c));
            var name = tags[commit];
            if (best is null || depth < best.Value.Depth || (depth == best.Value.Depth && string.CompareOrdinal(name, best.Value.Name) > 0))
            {
                best = (name, depth);
            }
        }

        return best is { } found ? $"{found.Name}-{found.Depth}-g{head[..7]}" : null;
    }

    /// <summary>A commit and everything it descends from, in the order a breadth-first walk meets them.</summary>
    private static (HashSet<string> Set, List<string> Order) Ancestors(string commit, Func<string, IReadOnlyList<string>> parentsOf)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { commit };
        var order = new List<string> { commit };
        var queue = new Queue<string>([commit]);
        while (queue.Count > 0 && seen.Count < MaxCommits)
        {
            foreach (var parent in parentsOf(queue.Dequeue()))
            {
                if (seen.Add(parent))
                {
                    order.Add(parent);
                    queue.Enqueue(parent);
                }
            }
        }

        return (seen, order);
    }
}
