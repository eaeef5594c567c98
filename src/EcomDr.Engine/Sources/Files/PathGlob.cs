using System.Text;
using System.Text.RegularExpressions;

namespace EcomDr.Engine.Sources.Files;

/// <summary>
/// A path pattern over '/'-separated relative paths, as .gitignore writes them: '*' is any run of
/// characters within one segment, '?' one character, '**' any number of whole segments. A pattern
/// without '/' matches a name at any depth ("*.env", ".env"); one with '/' matches from the top
/// ("nginx/**/*.conf"). A pattern that names a folder matches everything under it.
/// </summary>
public sealed class PathGlob
{
    private readonly Regex _regex;

    public PathGlob(string pattern)
    {
        Pattern = pattern;
        var trimmed = pattern.Replace('\\', '/').Trim('/');
        if (trimmed.Length == 0)
        {
            throw new ArgumentException("An empty pattern matches nothing.", nameof(pattern));
        }

        var anywhere = !trimmed.Contains('/');
        var regex = new StringBuilder(anywhere ? "^(?:.*/)?" : "^");
        var segments = trimmed.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var last = i == segments.Length - 1;
            if (segment == "**")
            {
                regex.Append(last ? ".*" : "(?:[^/]+/)*");
                continue;
            }

            foreach (var c in segment)
            {
                regex.Append(c switch
                {
                    '*' => "[^/]*",
                    '?' => "[^/]",
                    _ => Regex.Escape(c.ToString()),
                });
            }

            if (!last)
            {
                regex.Append('/');
            }
        }

        regex.Append("(?:/.*)?$"); // a folder's pattern covers what it holds
        _regex = new Regex(regex.ToString(), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }

    public string Pattern { get; }

    public bool IsMatch(string relativePath) => _regex.IsMatch(relativePath.Replace('\\', '/'));

    public static bool Any(IReadOnlyList<PathGlob> globs, string relativePath) => globs.Any(g => g.IsMatch(relativePath));

    public static IReadOnlyList<PathGlob> All(IEnumerable<string>? patterns) => (patterns ?? []).Select(p => new PathGlob(p)).ToList();

    public override string ToString() => Pattern;
}
