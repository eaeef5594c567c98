using System.Reflection;
using System.Text.RegularExpressions;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Tests.Config;

namespace EcomDr.Engine.Tests.Errors;

/// <summary>One error catalogue that is true: ErrorIds holds every id, docs/errors.md gives each a meaning, and no code raises another.</summary>
public sealed partial class ErrorCatalogueTests
{
    private static readonly IReadOnlyDictionary<string, string> Ids = typeof(ErrorIds)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral)
        .ToDictionary(f => f.Name, f => (string)f.GetRawConstantValue()!);

    [Fact]
    public void EveryIdIsUniqueAndNamedEcomDr()
    {
        Assert.True(Ids.Count >= 40, $"only {Ids.Count} ids found");
        Assert.All(Ids.Values, id => Assert.Matches(@"^EcomDr\.[A-Z][A-Za-z]+$", id));
        var duplicates = Ids.GroupBy(i => i.Value).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.Empty(duplicates);
    }

    [Fact]
    public void EveryIdHasADocumentedMeaningAndTheDocsListNoOther()
    {
        var rows = DocumentedRows();
        var missing = Ids.Values.Where(id => !rows.ContainsKey(id)).ToList();
        Assert.True(missing.Count == 0, "not in docs/errors.md: " + string.Join(", ", missing));
        var unknown = rows.Keys.Where(id => !Ids.Values.Contains(id)).ToList();
        Assert.True(unknown.Count == 0, "docs/errors.md lists ids that do not exist: " + string.Join(", ", unknown));
        var kinds = Enum.GetNames<FailureKind>();
        foreach (var (id, (category, meaning)) in rows)
        {
            Assert.True(meaning.Length >= 20, $"{id}: its meaning '{meaning}' says too little");
            Assert.All(category.Split(" / "), c => Assert.Contains(c, kinds));
        }
    }

    [Fact]
    public void NoCodeRaisesAnIdOutsideTheCatalogue()
    {
        var src = Path.Join(ConfigLoaderTests.RepoRoot(), "src");
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                || file.EndsWith(Path.Join("Errors", "ErrorIds.cs"), StringComparison.Ordinal))
            {
                continue;
            }

            var text = File.ReadAllText(file);
            // An id as a literal ("EcomDr.Something"), other than the assembly's name and the swap's information tag.
            foreach (Match m in IdLiteral().Matches(text))
            {
                if (m.Groups[1].Value is not ("Engine" or "Engine.Tests" or "SwapBack"))
                {
                    offenders.Add($"{Path.GetRelativePath(src, file)}: {m.Value}");
                }
            }

            // An error raised with a literal for its id (any id defined outside ErrorIds is a literal, caught above).
            foreach (Match m in RaisedId().Matches(text))
            {
                if (m.Groups[1].Value.Contains('"', StringComparison.Ordinal))
                {
                    offenders.Add($"{Path.GetRelativePath(src, file)}: raises {m.Groups[1].Value}");
                }
            }
        }

        Assert.True(offenders.Count == 0, string.Join("\n", offenders));
    }

    private static Dictionary<string, (string Category, string Meaning)> DocumentedRows()
    {
        var rows = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Join(ConfigLoaderTests.RepoRoot(), "docs", "errors.md")))
        {
            var m = Row().Match(line);
            if (m.Success)
            {
                Assert.True(rows.TryAdd(m.Groups[1].Value, (m.Groups[2].Value.Trim(), m.Groups[3].Value.Trim())), $"{m.Groups[1].Value} is listed twice");
            }
        }

        return rows;
    }

    [GeneratedRegex(@"^\| `(EcomDr\.[A-Za-z]+)` \|([^|]+)\|([^|]+)\|")]
    private static partial Regex Row();

    [GeneratedRegex(@"""EcomDr\.([A-Za-z.]+)""")]
    private static partial Regex IdLiteral();

    [GeneratedRegex(@"(?:new (?:Errors\.|Engine\.Errors\.)?EcomDrException|\bnew)\(\s*([^,]+),\s*(?:Errors\.|Engine\.Errors\.)?FailureKind\.")]
    private static partial Regex RaisedId();
}
