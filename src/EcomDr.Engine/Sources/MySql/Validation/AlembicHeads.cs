using System.Text.RegularExpressions;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Sources.MySql.Validation;

/// <summary>
/// The head revision(s) of an Alembic migrations folder, read from its revision files: every
/// `revision` that no other file names as its `down_revision` (a merge names several). The
/// application's code is not run.
/// </summary>
public static partial class AlembicHeads
{
    public static IReadOnlyList<string> FromFolder(string folder)
    {
        var root = Directory.Exists(Path.Combine(folder, "versions")) ? Path.Combine(folder, "versions") : folder;
        if (!Directory.Exists(root))
        {
            throw new EcomDrException(ErrorIds.MigrationsInvalid, FailureKind.ObjectNotFound, $"Migrations folder {folder} does not exist.", folder);
        }

        var revisions = new List<string>();
        var parents = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(root, "*.py", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(file);
            if (Revision().Match(text) is not { Success: true } revision)
            {
                continue;
            }

            revisions.Add(revision.Groups[1].Value);
            if (DownRevision().Match(text) is { Success: true } down)
            {
                foreach (Match quoted in Quoted().Matches(down.Groups[1].Value))
                {
                    parents.Add(quoted.Groups[1].Value);
                }
            }
        }

        var heads = revisions.Where(r => !parents.Contains(r)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (heads.Count == 0)
        {
            throw new EcomDrException(ErrorIds.MigrationsInvalid, FailureKind.InvalidData,
                revisions.Count == 0 ? $"No Alembic revision file (revision = '...') under {root}." : $"The revisions under {root} form a cycle: no head.", folder);
        }

        return heads;
    }

    [GeneratedRegex(@"^revision\s*(?::[^=\n]*)?=\s*['""]([^'""]+)['""]", RegexOptions.Multiline)]
    private static partial Regex Revision();

    [GeneratedRegex(@"^down_revision\s*(?::[^=\n]*)?=\s*(None|['""][^'""]*['""]|\([^)]*\)|\[[^\]]*\])", RegexOptions.Multiline)]
    private static partial Regex DownRevision();

    [GeneratedRegex(@"['""]([^'""]+)['""]")]
    private static partial Regex Quoted();
}
