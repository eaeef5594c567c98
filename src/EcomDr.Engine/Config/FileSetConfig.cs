using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Config;

/// <summary>
/// A named file set (files.&lt;name&gt; in the configuration): the roots and patterns of a file backup,
/// its kind (infra, docs, migrations: the retention policy keeps each as configured), the stores it is
/// copied to after the backup, the files it may hold although the secret scan flags them, and how
/// often its runbook runs (the alert EcomDrFileBackupOverdue compares the last success with it).
/// </summary>
public sealed record FileSetConfig(
    string Name,
    string Kind,
    IReadOnlyList<string> Paths,
    IReadOnlyList<string> Include,
    IReadOnlyList<string> Exclude,
    IReadOnlyList<string> Stores,
    IReadOnlyList<string> AllowSecrets)
{
    /// <summary>Hours between two runs of the set's backup (files.&lt;set&gt;.intervalHours; by default weekly for infra, daily otherwise).</summary>
    public int IntervalHours { get; init; } = ConfigDefaults.FileSetIntervalHours(Kind);
}

internal static class FileSetConfigReader
{
    public static IReadOnlyDictionary<string, FileSetConfig> Read(JsonFields files, IEnumerable<string> stores, Func<string, string> resolvePath)
    {
        var known = stores.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var sets = new Dictionary<string, FileSetConfig>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, set) in files.ObjectMembers())
        {
            try
            {
                RepositoryLayout.ValidateName(name, "file set name");
            }
            catch (Errors.EcomDrException)
            {
                throw files.Invalid(files.Child(name), "a set name is letters, digits, '-' and '_'");
            }

            set.AllowOnly("kind", "paths", "include", "exclude", "stores", "allowSecrets", "intervalHours");
            var kind = set.String("kind");
            try
            {
                RepositoryLayout.ValidateName(kind, "backup kind");
            }
            catch (Errors.EcomDrException)
            {
                throw set.Invalid(set.Child("kind"), "a kind is letters, digits, '-' and '_' (infra, docs, migrations)");
            }

            var paths = set.StringArray("paths");
            if (paths.Count == 0)
            {
                throw set.Invalid(set.Child("paths"), "at least one path is required");
            }

            var copies = set.StringArray("stores");
            foreach (var store in copies.Where(s => !known.Contains(s)))
            {
                throw set.Invalid(set.Child("stores"), $"'{store}' is not a repository of this environment");
            }

            var patterns = new[] { "include", "exclude", "allowSecrets" }.ToDictionary(f => f, f => set.StringArray(f));
            foreach (var (field, values) in patterns)
            {
                foreach (var pattern in values.Where(p => p.Trim('/', '\\').Length == 0))
                {
                    throw set.Invalid(set.Child(field), $"'{pattern}' is an empty pattern");
                }
            }

            sets[name] = new FileSetConfig(name, kind, paths.Select(resolvePath).ToList(), patterns["include"], patterns["exclude"], copies, patterns["allowSecrets"])
            {
                IntervalHours = set.Int("intervalHours", 1, 8760, ConfigDefaults.FileSetIntervalHours(kind)),
            };
        }

        return sets;
    }
}
