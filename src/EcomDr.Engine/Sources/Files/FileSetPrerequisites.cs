using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Prerequisites;

namespace EcomDr.Engine.Sources.Files;

/// <summary>
/// Test-DrPrerequisite's checks of the configured file sets, without backing anything up: each set's
/// paths exist, and the secret scan a backup runs finds nothing (the set's allowSecrets honoured). A
/// problem is a Warn: the set's own backup refuses it loudly, and it must not stop the MySQL jobs that
/// run Test-DrPrerequisite first.
/// </summary>
public static class FileSetPrerequisites
{
    public static async Task<IReadOnlyList<PrerequisiteResult>> RunAsync(IReadOnlyDictionary<string, FileSetConfig> sets, CancellationToken ct)
    {
        var results = new List<PrerequisiteResult>();
        foreach (var set in sets.Values.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            var where = $"file set {set.Name}";
            IReadOnlyList<FileEntry> entries;
            try
            {
                entries = FileTree.Read(set.Paths, PathGlob.All(set.Include), PathGlob.All(set.Exclude));
            }
            catch (EcomDrException ex) when (ex.ErrorId is ErrorIds.PathNotFound or ErrorIds.InvalidArgument)
            {
                results.Add(new PrerequisiteResult(where, $"Files.{set.Name}.Paths", CheckStatus.Warn, ex.Message, "every path of the set exists", $"Fix environments.*.files.{set.Name}.paths."));
                continue;
            }

            var files = entries.Count(e => e.Type == FileEntryType.File);
            results.Add(new PrerequisiteResult(where, $"Files.{set.Name}.Paths", CheckStatus.Pass, $"{files} file(s) under {string.Join(", ", set.Paths)}", "every path of the set exists", ""));
            var findings = await SecretScanner.ScanAsync(entries, PathGlob.All(set.AllowSecrets), ct).ConfigureAwait(false);
            results.Add(findings.Count == 0
                ? new PrerequisiteResult(where, $"Files.{set.Name}.Secrets", CheckStatus.Pass, $"no secret in {files} file(s)", "no file holding a secret", "")
                : new PrerequisiteResult(where, $"Files.{set.Name}.Secrets", CheckStatus.Warn, string.Join("; ", findings.Take(20)), "no file holding a secret",
                    $"Secrets live in the vault (Backup-VaultSecret): exclude these files from the set, or list them in files.{set.Name}.allowSecrets if they must be kept."));
        }

        return results;
    }
}
