namespace EcomDr.Engine.Config;

/// <summary>
/// Every default of a configuration file, defined here only. The loader and the embedded defaults
/// use these; <see cref="All"/> lists each by its field path, and a test proves that the JSON Schema's
/// "default"s and docs/configuration.md ("Defaults") say the same.
/// </summary>
public static class ConfigDefaults
{
    public const int MySqlPort = 3306;
    public const string MySqlSslMode = "Preferred";
    public const int RtoMinutes = 60;
    public const int RpoMinutes = 15;
    public const int BinlogShipIntervalMinutes = 15;
    public const int FullBackupIntervalHours = 24;
    public const int BinlogExpiryMarginHours = 24;
    public const int PitrOffsetMinutes = 10;
    public const string ProbeMethod = "GET";
    public const int ProbeExpectStatus = 200;
    public const int ProbeTimeoutSeconds = 30;
    public const bool S3ForcePathStyle = false;
    public const string RepositoryType = "filesystem";
    public const string KeyType = "localFile";
    public const int KeyRotateDays = 90;
    public const int RedisPort = 6379;
    public const string RedisTls = "none";
    public const int RedisReadTimeoutSeconds = 60;
    public const int SnapshotMaxFreezeSeconds = 30;
    public const int SnapshotCompletionTimeoutMinutes = 120;
    public const int ApprovalHours = 24;
    public const string GrafanaTokenEnv = "GRAFANA_TOKEN";
    public const bool KeyWrap = true;
    public const string TransitMount = "transit";
    public const int RetentionMinFull = 2;
    public const int RetentionIncompleteGraceHours = 24;
    public const bool VaultTlsVerify = true;
    public const string VaultAuthMethod = "token";
    public const string VaultTokenEnv = "VAULT_TOKEN";
    public const string VaultAppRoleMount = "approle";

    /// <summary>The plan's retention per kind, in days ("6 months" is 183).</summary>
    public static IReadOnlyDictionary<string, int> RetentionDays { get; } = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        [Pipeline.Repository.BackupKinds.MySqlFull] = 7,
        [Pipeline.Repository.BackupKinds.MySqlBinlog] = 7,
        [Pipeline.Repository.BackupKinds.MySqlSnapshot] = 28,
        [Pipeline.Repository.BackupKinds.Redis] = 3,
        [Pipeline.Repository.BackupKinds.Infra] = 28,
        [Pipeline.Repository.BackupKinds.Docs] = 14,
        [Pipeline.Repository.BackupKinds.Migrations] = 14,
        [Pipeline.Repository.BackupKinds.Secrets] = 183,
        [Pipeline.Repository.BackupKinds.DrillReport] = 366,
    };

    /// <summary>The plan's schedule of a file set by its kind: infra weekly, docs and migrations (and any other kind) daily.</summary>
    public static int FileSetIntervalHours(string kind) => kind == Pipeline.Repository.BackupKinds.Infra ? 168 : 24;

    public static ObjectivesConfig Objectives => new(RtoMinutes, RpoMinutes);

    public static ScheduleConfig Schedules => new(BinlogShipIntervalMinutes, FullBackupIntervalHours, BinlogExpiryMarginHours);

    public static DrillConfig Drill => new(PitrOffsetMinutes, null, null, Array.Empty<ProbeConfig>());

    public static RetentionConfig Retention => new(RetentionMinFull, RetentionIncompleteGraceHours,
        RetentionDays.ToDictionary(k => k.Key, k => new KindRetention(k.Value), StringComparer.Ordinal), new Dictionary<string, StoreRetention>());

    // The Vault of the first Transit key (its own, or the environment's, which has the same defaults).
    private static VaultServerConfig? TransitServer(EnvironmentConfig e) => e.Keys.FirstOrDefault(k => k.Transit is not null)?.Transit!.Server;

    /// <summary>
    /// Each default by its path in the file (environments.*.…; [] for every item of an array), its
    /// value as JSON writes it, and how to read it back from a loaded environment.
    /// </summary>
    public static IReadOnlyList<ConfigDefault> All { get; } = new ConfigDefault[]
    {
        new("environments.*.mysql.port", MySqlPort, e => e.MySql?.Port),
        new("environments.*.mysql.sslMode", MySqlSslMode, e => e.MySql?.SslMode),
        new("environments.*.redis.port", RedisPort, e => e.Redis?.Port),
        new("environments.*.redis.tls", RedisTls, e => e.Redis?.Tls.ToString().ToLowerInvariant()),
        new("environments.*.redis.readTimeoutSeconds", RedisReadTimeoutSeconds, e => e.Redis?.ReadTimeoutSeconds),
        new("environments.*.restore.requiredApprovals", 0, e => e.Restore?.RequiredApprovals),
        new("environments.*.grafana.tokenEnv", GrafanaTokenEnv, e => e.Grafana?.TokenEnvironmentVariable),
        new("environments.*.restore.approvalHours", ApprovalHours, e => e.Restore?.ApprovalHours),
        new("environments.*.mysql.volumeSnapshot.maxFreezeSeconds", SnapshotMaxFreezeSeconds, e => e.MySql?.VolumeSnapshot?.MaxFreezeSeconds),
        new("environments.*.mysql.volumeSnapshot.awsEbs.encrypted", true, e => e.MySql?.VolumeSnapshot?.AwsEbs?.Encrypted),
        new("environments.*.mysql.volumeSnapshot.awsEbs.completionTimeoutMinutes", SnapshotCompletionTimeoutMinutes,
            e => e.MySql?.VolumeSnapshot?.AwsEbs is { } a ? (int)a.CompletionTimeout.TotalMinutes : null),
        new("environments.*.repositories.*.type", RepositoryType, e => e.Repositories["primary"].Type == Config.RepositoryType.FileSystem ? "filesystem" : "s3"),
        new("environments.*.repositories.*.forcePathStyle", S3ForcePathStyle, e => e.Repositories.Values.FirstOrDefault(r => r.S3 is not null)?.S3!.ForcePathStyle),
        new("environments.*.keys[].type", KeyType, e => e.Keys[0].Type == KeyProviderType.LocalFile ? "localFile" : "rsaPublicKey"),
        new("environments.*.keys[].rotateDays", KeyRotateDays, e => e.Keys[0].RotateDays),
        new("environments.*.keys[].wrap", KeyWrap, e => e.Keys[0].Wrap),
        new("environments.*.keys[].mount", TransitMount, e => e.Keys.FirstOrDefault(k => k.Transit is not null)?.Transit!.Mount),
        new("environments.*.objectives.rtoMinutes", RtoMinutes, e => e.Objectives.RtoMinutes),
        new("environments.*.objectives.rpoMinutes", RpoMinutes, e => e.Objectives.RpoMinutes),
        new("environments.*.schedules.binlogShipIntervalMinutes", BinlogShipIntervalMinutes, e => e.Schedules.BinlogShipIntervalMinutes),
        new("environments.*.schedules.fullBackupIntervalHours", FullBackupIntervalHours, e => e.Schedules.FullBackupIntervalHours),
        new("environments.*.schedules.binlogExpiryMarginHours", BinlogExpiryMarginHours, e => e.Schedules.BinlogExpiryMarginHours),
        new("environments.*.drill.pitrOffsetMinutes", PitrOffsetMinutes, e => e.Drills.PitrOffsetMinutes),
        new("environments.*.drill.probes[].method", ProbeMethod, e => e.Drills.Probes.FirstOrDefault()?.Method),
        new("environments.*.drill.probes[].expectStatus", ProbeExpectStatus, e => e.Drills.Probes.FirstOrDefault()?.ExpectStatus),
        new("environments.*.drill.probes[].timeoutSeconds", ProbeTimeoutSeconds, e => e.Drills.Probes.FirstOrDefault()?.TimeoutSeconds),
        new("environments.*.retention.minFull", RetentionMinFull, e => e.Retentions.MinFull),
        new("environments.*.retention.incompleteGraceHours", RetentionIncompleteGraceHours, e => e.Retentions.IncompleteGraceHours),
        new("environments.*.vault.tlsVerify", VaultTlsVerify, e => e.Vault?.Server.TlsVerify),
        new("environments.*.vault.auth.method", VaultAuthMethod, e => e.Vault is { } v ? AuthMethodText(v.Server.Auth.Method) : null),
        new("environments.*.vault.auth.tokenEnv", VaultTokenEnv, e => e.Vault?.Server.Auth.TokenEnvironmentVariable),
        new("environments.*.vault.auth.mount", VaultAppRoleMount, e => e.Vault?.Server.Auth.AppRoleMount),
        new("environments.*.vault.secondary.tlsVerify", VaultTlsVerify, e => e.Vault?.Secondary?.TlsVerify),
        new("environments.*.vault.secondary.auth.method", VaultAuthMethod, e => e.Vault?.Secondary is { } s ? AuthMethodText(s.Auth.Method) : null),
        new("environments.*.vault.secondary.auth.tokenEnv", VaultTokenEnv, e => e.Vault?.Secondary?.Auth.TokenEnvironmentVariable),
        new("environments.*.vault.secondary.auth.mount", VaultAppRoleMount, e => e.Vault?.Secondary?.Auth.AppRoleMount),
        new("environments.*.keys[].vault.tlsVerify", VaultTlsVerify, e => TransitServer(e)?.TlsVerify),
        new("environments.*.keys[].vault.auth.method", VaultAuthMethod, e => TransitServer(e) is { } s ? AuthMethodText(s.Auth.Method) : null),
        new("environments.*.keys[].vault.auth.tokenEnv", VaultTokenEnv, e => TransitServer(e)?.Auth.TokenEnvironmentVariable),
        new("environments.*.keys[].vault.auth.mount", VaultAppRoleMount, e => TransitServer(e)?.Auth.AppRoleMount),
    }.Concat(RetentionDays.Select(k => new ConfigDefault($"environments.*.retention.kinds.{k.Key}.keepDays", k.Value,
        e => e.Retentions.Kinds.TryGetValue(k.Key, out var policy) ? policy.KeepDays : null))).ToList();

    private static string AuthMethodText(Config.VaultAuthMethod method) => method switch
    {
        Config.VaultAuthMethod.TokenFile => "tokenFile",
        Config.VaultAuthMethod.AppRole => "appRole",
        _ => "token",
    };
}

/// <summary>One default: where it sits in a file, its value, and where a loaded environment holds it (null: not there).</summary>
public sealed record ConfigDefault(string Path, object Value, Func<EnvironmentConfig, object?> Read);
