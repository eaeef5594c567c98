namespace EcomDr.Engine.Config;

/// <summary>A parsed, validated configuration file (see docs/configuration.md).</summary>
public sealed record EcomDrConfig(
    string? SourcePath,
    int SchemaVersion,
    string DefaultEnvironment,
    IReadOnlyDictionary<string, EnvironmentConfig> Environments)
{
    public const int CurrentSchemaVersion = 1;

    /// <summary>The environment named, or the default one; an unknown name is a clear error.</summary>
    public EnvironmentConfig GetEnvironment(string? name)
    {
        var wanted = string.IsNullOrEmpty(name) ? DefaultEnvironment : name;
        if (Environments.TryGetValue(wanted, out var env))
        {
            return env;
        }

        var known = string.Join(", ", Environments.Keys.OrderBy(k => k, StringComparer.Ordinal));
        throw new Errors.EcomDrException(
            Errors.ErrorIds.EnvironmentNotFound,
            Errors.FailureKind.ObjectNotFound,
            $"{SourcePath ?? "embedded defaults"}: no environment '{wanted}' (known: {known}).",
            wanted);
    }
}

/// <summary>One environment (prod, staging, drill): where its data comes from and goes to.</summary>
public sealed record EnvironmentConfig(
    string Name,
    MySqlSourceConfig? MySql,
    IReadOnlyDictionary<string, RepositoryConfig> Repositories,
    IReadOnlyList<KeyProviderConfig> Keys,
    ObjectivesConfig Objectives,
    ScheduleConfig Schedules,
    DrillConfig? Drill = null,
    TelemetryConfig? Telemetry = null,
    IReadOnlyList<string>? PublicLabels = null,
    RetentionConfig? Retention = null,
    VaultConfig? Vault = null,
    RedisSourceConfig? Redis = null,
    IReadOnlyDictionary<string, FileSetConfig>? Files = null,
    RestoreConfig? Restore = null)
{
    /// <summary>The Grafana whose dashboards and datasources Export-GrafanaConfig backs up and Restore-GrafanaConfig loads.</summary>
    public GrafanaConfig? Grafana { get; init; }

    /// <summary>The named file set; a clear error naming the sets that exist.</summary>
    public FileSetConfig RequireFileSet(string? configPath, string set) =>
        Files?.TryGetValue(set, out var found) == true ? found
        : throw new Errors.EcomDrException(Errors.ErrorIds.SourceNotConfigured, Errors.FailureKind.ObjectNotFound,
            $"{configPath ?? "embedded defaults"}: environments.{Name}.files has no set '{set}'" +
            (Files is { Count: > 0 } sets ? $" (it has {string.Join(", ", sets.Keys.Order(StringComparer.Ordinal))})." : "; add a files section (docs/configuration.md)."),
            $"environments.{Name}.files.{set}");

    /// <summary>The retention policy, or the plan's defaults.</summary>
    public RetentionConfig Retentions => Retention ?? ConfigDefaults.Retention;

    /// <summary>The drill settings, or the defaults (no probes, no Alembic check, PITR 10 minutes back).</summary>
    public DrillConfig Drills => Drill ?? ConfigDefaults.Drill;

    /// <summary>The MySQL source, for a job that needs one from the configuration; a clear error when the environment has none.</summary>
    public MySqlSourceConfig RequireMySql(string? configPath) =>
        MySql ?? throw new Errors.EcomDrException(Errors.ErrorIds.SourceNotConfigured, Errors.FailureKind.ObjectNotFound,
            $"{configPath ?? "embedded defaults"}: environments.{Name} has no mysql source; add a mysql section, or give the server explicitly (-Server/-TargetServer).",
            $"environments.{Name}.mysql");

    /// <summary>The environment's own key file: the first localFile key, which signs (the loader requires one).</summary>
    public KeyProviderConfig LocalKey => Keys.First(k => k.Type == KeyProviderType.LocalFile);

    /// <summary>The Redis section, for a snapshot job that needs one; a clear error when the environment has none.</summary>
    public RedisSourceConfig RequireRedis(string? configPath) =>
        Redis ?? throw new Errors.EcomDrException(Errors.ErrorIds.SourceNotConfigured, Errors.FailureKind.ObjectNotFound,
            $"{configPath ?? "embedded defaults"}: environments.{Name} has no redis source; add a redis section, or give the server explicitly (-Server).",
            $"environments.{Name}.redis");

    /// <summary>The Vault section, for a secrets job that needs one; a clear error when the environment has none.</summary>
    public VaultConfig RequireVault(string? configPath) =>
        Vault ?? throw new Errors.EcomDrException(Errors.ErrorIds.SourceNotConfigured, Errors.FailureKind.ObjectNotFound,
            $"{configPath ?? "embedded defaults"}: environments.{Name} has no vault section; add one, or give the Vault explicitly (-VaultAddress).",
            $"environments.{Name}.vault");
}

/// <summary>
/// The MySQL/MariaDB server backed up, and the schemas taken (empty: all non-system).
/// ReplicaServerId: the server id Send-Binlog registers with (0: derived from the host name).
/// VolumeSnapshot: the provider Invoke-MySqlVolumeSnapshot uses, when configured.
/// </summary>
public sealed record MySqlSourceConfig(
    string Server,
    int Port,
    string SslMode,
    IReadOnlyList<string> Schemas,
    CredentialReference? Credential,
    int ReplicaServerId = 0,
    VolumeSnapshotConfig? VolumeSnapshot = null);

/// <summary>
/// Where a credential comes from. Never the secret itself: the name of an environment variable, of
/// an Azure Automation credential asset, or a Vault KV path.
/// </summary>
public sealed record CredentialReference(
    string? User,
    string? PasswordEnvironmentVariable,
    string? AutomationCredential,
    string? VaultPath,
    string? VaultField);

/// <summary>A Grafana: its URL, and the environment variable holding a service account token (a reference, never the token).</summary>
public sealed record GrafanaConfig(Uri Url, string TokenEnvironmentVariable);

/// <summary>A backup store: a file-system folder or an S3 bucket/prefix.</summary>
public sealed record RepositoryConfig(
    string Name,
    RepositoryType Type,
    string? Path,
    S3RepositoryConfig? S3);

public enum RepositoryType
{
    FileSystem,
    S3,
}

public sealed record S3RepositoryConfig(
    string Bucket,
    string? Prefix,
    string? Endpoint,
    string? Region,
    bool ForcePathStyle,
    string? Profile,
    string? AccessKeyEnvironmentVariable,
    string? SecretKeyEnvironmentVariable,
    string? ServerSideEncryption,
    string? StorageClass);

/// <summary>
/// A key provider that wraps each artifact's data key. RotateDays: how old its current version may grow
/// before the key-age alert fires (Update-DrKey -NewVersion rotates it).
/// </summary>
public sealed record KeyProviderConfig(KeyProviderType Type, string Path, int RotateDays = ConfigDefaults.KeyRotateDays)
{
    /// <summary>A local key file that does not wrap only signs (and unwraps what it wrapped before): backups then need a key service to open.</summary>
    public bool Wrap { get; init; } = true;

    public TransitKeyConfig? Transit { get; init; }

    public KmsKeyConfig? Kms { get; init; }

    /// <summary>True when new data keys are wrapped by this provider.</summary>
    public bool Wraps => Type != KeyProviderType.LocalFile || Wrap;
}

public enum KeyProviderType
{
    LocalFile,
    RsaPublicKey,
    VaultTransit,
    AwsKms,
}

/// <summary>
/// A Transit key: its Vault, mount and name. SameVaultAsSource: the Vault is the one the environment
/// exports (no server of its own, or the same address and namespace), which matters for what protects
/// that Vault's own backups.
/// </summary>
public sealed record TransitKeyConfig(VaultServerConfig Server, string Mount, string KeyName, bool SameVaultAsSource);

/// <summary>An AWS KMS key (id, ARN or alias) and how to reach it; credentials by environment variable names or the SDK's default chain.</summary>
public sealed record KmsKeyConfig(string KeyId, string? Region, string? Endpoint, string? AccessKeyEnvironmentVariable, string? SecretKeyEnvironmentVariable);

/// <summary>Recovery objectives the drills are judged against.</summary>
public sealed record ObjectivesConfig(int RtoMinutes, int RpoMinutes);

/// <summary>What the schedules promise; checks and alerts compare reality against these.</summary>
public sealed record ScheduleConfig(
    int BinlogShipIntervalMinutes,
    int FullBackupIntervalHours,
    int BinlogExpiryMarginHours);

/// <summary>
/// How drills validate a restore: how far back a PITR drill aims, the Alembic head expected (given,
/// or read from a migrations folder), and the HTTP probes run against an app pointed at the restore.
/// </summary>
public sealed record DrillConfig(int PitrOffsetMinutes, string? AlembicHead, string? MigrationsPath, IReadOnlyList<ProbeConfig> Probes);

/// <summary>
/// One HTTP probe. {host}, {port} and {schema} in Url and Body are replaced by the restored
/// database's, so a probe can reach an app pointed at it.
/// </summary>
public sealed record ProbeConfig(string Name, string Url, string Method, string? Body, string? ContentType, int ExpectStatus, string? ExpectBody, int TimeoutSeconds);

/// <summary>Where job metrics go (a node_exporter textfile collector file, a Pushgateway, or both), and the signed job log.</summary>
public sealed record TelemetryConfig(string? Textfile, string? PushgatewayUrl, string? JobLog = null)
{
    /// <summary>A Loki that receives the job log's lines as they are (telemetry.loki).</summary>
    public LokiConfig? Loki { get; init; }
}

/// <summary>A Loki: its URL, the tenant (X-Scope-OrgID) and the environment variable of a bearer token, when it needs them.</summary>
public sealed record LokiConfig(Uri Url, string? Tenant, string? TokenEnvironmentVariable);


/// <summary>How EcomDr talks TLS to Redis: not at all, encrypted without checking the certificate, or verified.</summary>
public enum RedisTlsMode
{
    None,
    Required,
    Verify,
}

/// <summary>
/// The Redis whose RDB snapshot is taken (docs/configuration.md, "redis"): server, port, TLS (with an
/// optional CA file), the ACL user and where its password comes from, the databases expected to hold
/// keys, and how long a transfer may stall before it is abandoned.
/// </summary>
public sealed record RedisSourceConfig(
    string Server,
    int Port,
    RedisTlsMode Tls,
    string? CaFile,
    CredentialReference? Credential,
    IReadOnlyList<int> Databases,
    int ReadTimeoutSeconds);
