using System.Text.RegularExpressions;

namespace EcomDr.Engine.Sources.Vault;

/// <summary>
/// Which secrets a restore takes, by full path ("mount/path"): -Path names secrets exactly, or a
/// folder when it ends with '/'; -Include and -Exclude are wildcards (* any run of characters, '/'
/// included; ? one character). Vault paths are case-sensitive, and so is this.
/// </summary>
public sealed class SecretSelection
{
    private readonly IReadOnlyList<string> _paths;
    private readonly IReadOnlyList<Regex> _include;
    private readonly IReadOnlyList<Regex> _exclude;

    public SecretSelection(IReadOnlyList<string>? paths = null, IReadOnlyList<string>? include = null, IReadOnlyList<string>? exclude = null)
    {
        _paths = (paths ?? []).Select(p => p.TrimStart('/')).ToList();
        _include = (include ?? []).Select(Glob).ToList();
        _exclude = (exclude ?? []).Select(Glob).ToList();
    }

    public static SecretSelection All { get; } = new();

    public bool IsEverything => _paths.Count == 0 && _include.Count == 0 && _exclude.Count == 0;

    public bool Matches(string fullPath) =>
        (_paths.Count == 0 || _paths.Any(p => p.EndsWith('/') ? fullPath.StartsWith(p, StringComparison.Ordinal) : fullPath == p))
        && (_include.Count == 0 || _include.Any(r => r.IsMatch(fullPath)))
        && !_exclude.Any(r => r.IsMatch(fullPath));

    /// <summary>The -Path entries that name no secret of the export (a typo must not pass silently).</summary>
    public IEnumerable<string> Unmatched(IReadOnlyCollection<string> exported) =>
        _paths.Where(p => !exported.Any(e => p.EndsWith('/') ? e.StartsWith(p, StringComparison.Ordinal) : e == p));

    private static Regex Glob(string pattern) =>
        new("^" + Regex.Escape(pattern.TrimStart('/')).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.CultureInvariant | RegexOptions.Singleline);
}
