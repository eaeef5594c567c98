namespace EcomDr.Engine.Config;

/// <summary>
/// The configuration used when no file is given: one environment, a local file-system repository
/// and a local key file, so a first run needs no cloud account.
/// </summary>
public static class EmbeddedDefaults
{
    public const string EnvironmentName = "default";

    /// <summary>The defaults, under the environment name asked for (explicit-parameter runs name their own).</summary>
    public static EcomDrConfig Create(string? environmentName = null)
    {
        var name = string.IsNullOrEmpty(environmentName) ? EnvironmentName : environmentName;
        var dataRoot = Path.Join(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData,
            Environment.SpecialFolderOption.DoNotVerify), "EcomDr");
        var env = new EnvironmentConfig(
            name,
            new MySqlSourceConfig("localhost", ConfigDefaults.MySqlPort, ConfigDefaults.MySqlSslMode, Array.Empty<string>(), Credential: null),
            new Dictionary<string, RepositoryConfig>(StringComparer.OrdinalIgnoreCase)
            {
                ["primary"] = new("primary", RepositoryType.FileSystem, Path.Join(dataRoot, "repository"), null),
            },
            new[] { new KeyProviderConfig(KeyProviderType.LocalFile, Path.Join(dataRoot, "keys", "default.key")) },
            ConfigDefaults.Objectives,
            ConfigDefaults.Schedules);
        return new EcomDrConfig(null, EcomDrConfig.CurrentSchemaVersion, name,
            new Dictionary<string, EnvironmentConfig>(StringComparer.Ordinal) { [name] = env });
    }
}
