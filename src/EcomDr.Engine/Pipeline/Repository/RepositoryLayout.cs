using System.Security.Cryptography;
using System.Text.RegularExpressions;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>
/// Where things live in a store (docs/format.md, "Repository layout"):
/// <c>&lt;environment&gt;/&lt;kind&gt;/&lt;backup id&gt;/manifest.json</c> and its artifacts beside it,
/// <c>&lt;environment&gt;/_locks/&lt;kind&gt;.lock</c>, the catalog index <c>&lt;environment&gt;/_catalog/index.json</c>, and published public signing keys in <c>_keys/</c>.
/// </summary>
public static partial class RepositoryLayout
{
    public const string ManifestName = "manifest.json";
    public const string LocksFolder = "_locks";
    public const string KeysFolder = "_keys";
    public const string HoldsFolder = "_holds";
    public const string CatalogFolder = "_catalog";

    public static string BackupPrefix(string environment, string kind, string id) => $"{environment}/{kind}/{id}/";

    public static string ManifestKey(string environment, string kind, string id) => BackupPrefix(environment, kind, id) + ManifestName;

    public static string LockKey(string environment, string kind) => $"{environment}/{LocksFolder}/{kind}.lock";

    public static string HoldKey(string environment, string id) => $"{environment}/{HoldsFolder}/{id}.json";

    public static string CatalogIndexKey(string environment) => $"{environment}/{CatalogFolder}/index.json";

    public static string PublicKeyKey(string keyId) => $"{KeysFolder}/{keyId}.pub.pem";

    /// <summary>Sortable by time, unique: 20261129T130501Z-3f9a1c.</summary>
    public static string NewBackupId(DateTimeOffset at) =>
        $"{at.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant()}";

    /// <summary>When the job that wrote a backup started, from its id (null for an id of another shape).</summary>
    public static DateTimeOffset? TimeOfId(string id) =>
        id.Length >= 16 && DateTimeOffset.TryParseExact(id[..16], "yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var at) ? at : null;

    public static string ValidateName(string value, string what)
    {
        if (!NamePattern().IsMatch(value) || value.StartsWith('_'))
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument,
                $"'{value}' is not a valid {what}: use 1-48 lower-case letters, digits, '-' or '_', not starting with '_'.", value);
        }

        return value;
    }

    public static string ValidateArtifactName(string name)
    {
        if (!ArtifactPattern().IsMatch(name) || name.Split('/').Any(s => s is "" or "." or ".." || s.StartsWith('.')) || name == ManifestName)
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument,
                $"'{name}' is not a valid artifact name: letters, digits, '.', '-', '_', %XX escapes and '/' separators, no hidden parts (identifiers go through ArtifactNames.Encode).", name);
        }

        return name;
    }

    /// <summary>Splits "env/kind/id/rest" into its parts; null for keys outside backups.</summary>
    public static (string Environment, string Kind, string Id, string Remainder)? Parse(string key)
    {
        var parts = key.Split('/', 4);
        if (parts.Length < 4 || parts[0].StartsWith('_') || parts[1].StartsWith('_'))
        {
            return null;
        }

        return (parts[0], parts[1], parts[2], parts[3]);
    }

    [GeneratedRegex("^[a-z0-9_][a-z0-9_-]{0,47}$")]
    private static partial Regex NamePattern();

    // Non-ASCII letters are allowed: ArtifactNames keeps them as they are (anything else is %XX).
    [GeneratedRegex("^[A-Za-z0-9%\u0080-\uFFFF][A-Za-z0-9._/%\u0080-\uFFFF-]{0,511}$")]
    private static partial Regex ArtifactPattern();
}
