using System.Text.Json;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Config;

/// <summary>
/// Loads and validates a configuration file in one pass, before anything runs: the first problem
/// found is one error naming the file and the field.
/// </summary>
public static class ConfigLoader
{
    /// <summary>The sections that name something to back up; an environment needs at least one.</summary>
    public static readonly IReadOnlyList<string> Sources = new[] { "mysql", "vault", "redis", "files" };

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
    };

    public static EcomDrConfig Load(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new EcomDrException(ErrorIds.ConfigNotFound, FailureKind.ObjectNotFound,
                $"Configuration file not found: {full}", full);
        }

        return Parse(File.ReadAllText(full), full);
    }

    public static EcomDrConfig Parse(string json, string sourceName)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException ex)
        {
            // JsonException's message quotes no content, only line and byte position.
            throw new EcomDrException(ErrorIds.ConfigInvalid, FailureKind.InvalidData,
                $"{sourceName}: not valid JSON (line {ex.LineNumber + 1}, position {ex.BytePositionInLine}).", sourceName);
        }

        using (document)
        {
            var root = new JsonFields(document.RootElement, sourceName, string.Empty);
            root.AllowOnly("schemaVersion", "defaultEnvironment", "environments");
            var version = root.Int("schemaVersion", 1, int.MaxValue);
            if (version != EcomDrConfig.CurrentSchemaVersion)
            {
                throw root.Invalid("schemaVersion",
                    $"version {version} is not supported by this EcomDr (supports {EcomDrConfig.CurrentSchemaVersion})");
            }

            var environments = new Dictionary<string, EnvironmentConfig>(StringComparer.Ordinal);
            foreach (var (name, fields) in root.Object("environments").ObjectMembers())
            {
                environments[name] = ReadEnvironment(name, fields, BaseDirectory(sourceName));
            }

            if (environments.Count == 0)
            {
                throw root.Invalid("environments", "at least one environment is required");
            }

            var defaultEnvironment = root.OptionalString("defaultEnvironment")
                ?? (environments.Count == 1 ? environments.Keys.First() : throw root.Invalid("defaultEnvironment",
                    "required when there is more than one environment"));
            if (!environments.ContainsKey(defaultEnvironment))
            {
                throw root.Invalid("defaultEnvironment", $"names no environment ('{defaultEnvironment}')");
            }

            return new EcomDrConfig(sourceName, version, defaultEnvironment, environments);
        }
    }

    // Relative paths in a file are relative to the file, not to wherever the job happens to run.
    private static string BaseDirectory(string sourceName) =>
        System.IO.Path.IsPathRooted(sourceName) ? System.IO.Path.GetDirectoryName(sourceName)! : Environment.CurrentDirectory;

    internal static string ResolvePath(string path, string baseDirectory)
    {
        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal) || path.StartsWith("~\\", StringComparison.Ordinal))
        {
            path = System.IO.Path.Join(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[1..].TrimStart('/', '\\'));
        }

        return System.IO.Path.GetFullPath(path, baseDirectory);
    }

    private static EnvironmentConfig ReadEnvironment(string name, JsonFields env, string baseDirectory)
    {
        env.AllowOnly(Sources.Concat(new[] { "repositories", "keys", "objectives", "schedules", "drill", "telemetry", "publicLabels", "retention", "restore", "grafana" }).ToArray());
        var mysql = env.OptionalObject("mysql") is { } m ? ReadMySql(m, baseDirectory) : null;
        var redis = env.OptionalObject("redis") is { } rd ? ReadRedis(rd, baseDirectory) : null;
        var vault = env.OptionalObject("vault") is { } v ? VaultConfigReader.Read(v, baseDirectory) : null;
        // A vault section without mounts only names a server (a restore target, credentials): no source.
        if (mysql is null && redis is null && vault is not { Mounts.Count: > 0 } && !(env.OptionalObject("files") is { } f && f.ObjectMembers().Any()))
        {
            throw env.Invalid(env.Path, $"at least one source is required ({string.Join(", ", Sources)}; a vault source names its mounts)");
        }

        var repositories = new Dictionary<string, RepositoryConfig>(StringComparer.OrdinalIgnoreCase);
        foreach (var (repoName, fields) in env.Object("repositories").ObjectMembers())
        {
            repositories[repoName] = ReadRepository(repoName, fields, baseDirectory);
        }

        if (!repositories.ContainsKey("primary"))
        {
            throw env.Invalid(env.Child("repositories"), "a 'primary' repository is required");
        }

        var keys = env.ObjectArray("keys").Select(k => ReadKey(k, baseDirectory, vault)).ToList();
        if (!keys.Any(k => k.Type == KeyProviderType.LocalFile))
        {
            throw env.Invalid(env.Child("keys"), "at least one key provider of type 'localFile' is required (it signs manifests)");
        }

        CheckWrapping(env, keys, vault);

        var objectives = env.OptionalObject("objectives") is { } o ? ReadObjectives(o) : ConfigDefaults.Objectives;
        var schedules = env.OptionalObject("schedules") is { } s ? ReadSchedules(s) : ConfigDefaults.Schedules;
        if (schedules.BinlogShipIntervalMinutes > objectives.RpoMinutes)
        {
            throw env.Invalid(env.Child("schedules.binlogShipIntervalMinutes"),
                $"shipping every {schedules.BinlogShipIntervalMinutes} min cannot meet an RPO of {objectives.RpoMinutes} min");
        }

        var drill = env.OptionalObject("drill") is { } d ? ReadDrill(d, baseDirectory) : null;
        var telemetry = env.OptionalObject("telemetry") is { } t ? ReadTelemetry(t, baseDirectory) : null;
        var retention = env.OptionalObject("retention") is { } r ? ReadRetention(r, repositories.Keys) : null;
        var files = env.OptionalObject("files") is { } fs ? FileSetConfigReader.Read(fs, repositories.Keys, p => ResolvePath(p, baseDirectory)) : null;
        var restore = env.OptionalObject("restore") is { } rs ? RestoreConfigReader.Read(rs, p => ResolvePath(p, baseDirectory)) : null;
        var grafana = env.OptionalObject("grafana") is { } g ? ReadGrafana(g) : null;
        return new EnvironmentConfig(name, mysql, repositories, keys, objectives, schedules, drill, telemetry, env.StringArray("publicLabels"), retention, vault, redis, files, restore)
        {
            Grafana = grafana,
        };
    }

    private static RetentionConfig ReadRetention(JsonFields retention, IEnumerable<string> stores)
    {
        retention.AllowOnly("minFull", "incompleteGraceHours", "kinds", "stores");
        var kinds = ConfigDefaults.Retention.Kinds.ToDictionary(k => k.Key, k => k.Value, StringComparer.Ordinal);
        foreach (var (kind, policy) in ReadKindRetentions(retention.OptionalObject("kinds")))
        {
            kinds[kind] = policy;
        }

        var byStore = new Dictionary<string, StoreRetention>(StringComparer.OrdinalIgnoreCase);
        if (retention.OptionalObject("stores") is { } storeFields)
        {
            storeFields.AllowOnly(stores.ToArray());
            foreach (var (store, fields) in storeFields.ObjectMembers())
            {
                fields.AllowOnly("minFull", "kinds");
                byStore[store] = new StoreRetention(fields.Has("minFull") ? fields.Int("minFull", 1, 1000) : null,
                    ReadKindRetentions(fields.OptionalObject("kinds")).ToDictionary(k => k.Kind, k => k.Policy, StringComparer.Ordinal));
            }
        }

        return new RetentionConfig(retention.Int("minFull", 1, 1000, ConfigDefaults.RetentionMinFull),
            retention.Int("incompleteGraceHours", 1, 24 * 366, ConfigDefaults.RetentionIncompleteGraceHours), kinds, byStore);
    }

    // Each kind the plan names; a typo in a kind name is an error, never a kind kept forever.
    private static IEnumerable<(string Kind, KindRetention Policy)> ReadKindRetentions(JsonFields? kinds)
    {
        if (kinds is not { } fields)
        {
            yield break;
        }

        fields.AllowOnly(Pipeline.Repository.BackupKinds.Known.ToArray());
        foreach (var (kind, policy) in fields.ObjectMembers())
        {
            policy.AllowOnly("keepDays", "gfs");
            GfsRetention? gfs = null;
            if (policy.OptionalObject("gfs") is { } g)
            {
                g.AllowOnly("days", "weeks", "months");
                gfs = new GfsRetention(g.Int("days", 0, 3660, 0), g.Int("weeks", 0, 520, 0), g.Int("months", 0, 1200, 0));
            }

            yield return (kind, new KindRetention(policy.Int("keepDays", 1, 36600), gfs));
        }
    }

    private static GrafanaConfig ReadGrafana(JsonFields grafana)
    {
        grafana.AllowOnly("url", "tokenEnv");
        var url = grafana.String("url");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw grafana.Invalid(grafana.Child("url"), "expected an absolute http(s) URL");
        }

        return new GrafanaConfig(uri, grafana.OptionalString("tokenEnv") ?? ConfigDefaults.GrafanaTokenEnv);
    }

    private static MySqlSourceConfig ReadMySql(JsonFields mysql, string baseDirectory)
    {
        mysql.AllowOnly("server", "port", "sslMode", "schemas", "credential", "replicaServerId", "volumeSnapshot");
        var sslMode = mysql.Enum("sslMode", ConfigDefaults.MySqlSslMode,
            ("None", "None"), ("Preferred", "Preferred"), ("Required", "Required"),
            ("VerifyCA", "VerifyCA"), ("VerifyFull", "VerifyFull"));
        var credential = mysql.OptionalObject("credential") is { } c ? ReadCredential(c) : null;
        return new MySqlSourceConfig(mysql.String("server"), mysql.Int("port", 1, 65535, ConfigDefaults.MySqlPort), sslMode,
            mysql.StringArray("schemas"), credential, mysql.Int("replicaServerId", 1, int.MaxValue, 0),
            mysql.OptionalObject("volumeSnapshot") is { } v ? VolumeSnapshotConfigReader.Read(v, p => ResolvePath(p, baseDirectory)) : null);
    }

    private static RedisSourceConfig ReadRedis(JsonFields redis, string baseDirectory)
    {
        redis.AllowOnly("server", "port", "tls", "caFile", "credential", "databases", "readTimeoutSeconds");
        var tls = redis.Enum("tls", RedisTlsMode.None, ("none", RedisTlsMode.None), ("required", RedisTlsMode.Required), ("verify", RedisTlsMode.Verify));
        var caFile = redis.OptionalString("caFile") is { } ca ? ResolvePath(ca, baseDirectory) : null;
        if (caFile is not null && tls == RedisTlsMode.None)
        {
            throw redis.Invalid(redis.Child("caFile"), "a CA file is for tls 'verify' (or 'required')");
        }

        // Redis's ACL user is "default" unless one is named: requirepass sets that user's password.
        var credential = redis.OptionalObject("credential") is { } c ? ReadCredential(c, userRequired: false) : null;
        if (credential is { User: null, VaultPath: null })
        {
            credential = credential with { User = "default" };
        }

        var databases = redis.IntArray("databases", 0, 15);
        return new RedisSourceConfig(redis.String("server"), redis.Int("port", 1, 65535, ConfigDefaults.RedisPort), tls, caFile, credential, databases,
            redis.Int("readTimeoutSeconds", 1, 3600, ConfigDefaults.RedisReadTimeoutSeconds));
    }

    private static CredentialReference ReadCredential(JsonFields c, bool userRequired = true)
    {
        c.AllowOnly("user", "passwordEnv", "automationCredential", "vault", "vaultField");
        var sources = new[] { c.Has("passwordEnv"), c.Has("automationCredential"), c.Has("vault") }.Count(b => b);
        if (sources != 1)
        {
            throw c.Invalid(c.Path, "name exactly one of passwordEnv, automationCredential or vault");
        }

        var reference = new CredentialReference(c.OptionalString("user"), c.OptionalString("passwordEnv"),
            c.OptionalString("automationCredential"), c.OptionalString("vault"), c.OptionalString("vaultField"));
        if (userRequired && reference.PasswordEnvironmentVariable is not null && reference.User is null)
        {
            throw c.Invalid(c.Child("user"), "required with passwordEnv (automationCredential and vault can supply it)");
        }

        return reference;
    }

    private static RepositoryConfig ReadRepository(string name, JsonFields repo, string baseDirectory)
    {
        var type = repo.Enum("type", RepositoryType.FileSystem,
            ("filesystem", RepositoryType.FileSystem), ("s3", RepositoryType.S3));
        if (type == RepositoryType.FileSystem)
        {
            repo.AllowOnly("type", "path");
            return new RepositoryConfig(name, type, ResolvePath(repo.String("path"), baseDirectory), null);
        }

        repo.AllowOnly("type", "bucket", "prefix", "endpoint", "region", "forcePathStyle", "profile",
            "accessKeyEnv", "secretKeyEnv", "serverSideEncryption", "storageClass");
        if (repo.Has("accessKeyEnv") != repo.Has("secretKeyEnv"))
        {
            throw repo.Invalid(repo.Path, "accessKeyEnv and secretKeyEnv go together");
        }

        var s3 = new S3RepositoryConfig(repo.String("bucket"), repo.OptionalString("prefix"),
            repo.OptionalString("endpoint"), repo.OptionalString("region"), repo.Bool("forcePathStyle", ConfigDefaults.S3ForcePathStyle),
            repo.OptionalString("profile"), repo.OptionalString("accessKeyEnv"), repo.OptionalString("secretKeyEnv"),
            repo.OptionalString("serverSideEncryption"), repo.OptionalString("storageClass"));
        if (s3.Endpoint is { } endpoint && !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
        {
            throw repo.Invalid(repo.Child("endpoint"), "expected an absolute URL such as https://s3.example.com");
        }

        return new RepositoryConfig(name, type, null, s3);
    }

    private static KeyProviderConfig ReadKey(JsonFields key, string baseDirectory, VaultConfig? vault)
    {
        var type = key.Enum("type", KeyProviderType.LocalFile,
            ("localFile", KeyProviderType.LocalFile), ("rsaPublicKey", KeyProviderType.RsaPublicKey),
            ("vaultTransit", KeyProviderType.VaultTransit), ("awsKms", KeyProviderType.AwsKms));
        switch (type)
        {
            case KeyProviderType.LocalFile:
                key.AllowOnly("type", "path", "rotateDays", "wrap");
                return new KeyProviderConfig(type, ResolvePath(key.String("path"), baseDirectory), RotateDays(key)) { Wrap = key.Bool("wrap", ConfigDefaults.KeyWrap) };
            case KeyProviderType.RsaPublicKey:
                key.AllowOnly("type", "path");
                return new KeyProviderConfig(type, ResolvePath(key.String("path"), baseDirectory));
            case KeyProviderType.VaultTransit:
            {
                key.AllowOnly("type", "mount", "key", "vault", "rotateDays");
                var own = key.OptionalObject("vault") is { } s ? VaultConfigReader.ReadServer(s, baseDirectory) : null;
                var server = own ?? vault?.Server ?? throw key.Invalid(key.Child("vault"),
                    "a vaultTransit key needs its Vault: a 'vault' object here (address, auth), or the environment's vault section");
                var mount = (key.OptionalString("mount") ?? ConfigDefaults.TransitMount).Trim('/');
                var sameVault = vault is not null && server.Address == vault.Server.Address && server.Namespace == vault.Server.Namespace;
                return new KeyProviderConfig(type, "", RotateDays(key)) { Transit = new TransitKeyConfig(server, mount, key.String("key"), sameVault) };
            }

            default:
            {
                key.AllowOnly("type", "keyId", "region", "endpoint", "accessKeyEnv", "secretKeyEnv", "rotateDays");
                var endpoint = key.OptionalString("endpoint");
                if (endpoint is not null && !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
                {
                    throw key.Invalid(key.Child("endpoint"), "expected an absolute URL such as https://kms.eu-west-1.amazonaws.com");
                }

                var (access, secret) = (key.OptionalString("accessKeyEnv"), key.OptionalString("secretKeyEnv"));
                if ((access is null) != (secret is null))
                {
                    throw key.Invalid(key.Child(access is null ? "accessKeyEnv" : "secretKeyEnv"), "give accessKeyEnv and secretKeyEnv together, or neither (the SDK's default credentials)");
                }

                return new KeyProviderConfig(type, "", RotateDays(key)) { Kms = new KmsKeyConfig(key.String("keyId"), key.OptionalString("region"), endpoint, access, secret) };
            }
        }

        static int RotateDays(JsonFields key) => key.Int("rotateDays", 1, 3650, ConfigDefaults.KeyRotateDays);
    }

    /// <summary>
    /// New data keys must be wrapped by something, and a Vault's own export must open without that
    /// Vault: when it is lost, its Transit key is lost with it, and so would be the export that could rebuild it.
    /// </summary>
    private static void CheckWrapping(JsonFields env, IReadOnlyList<KeyProviderConfig> keys, VaultConfig? vault)
    {
        var wrapping = keys.Where(k => k.Wraps).ToList();
        if (wrapping.Count == 0)
        {
            throw env.Invalid(env.Child("keys"), "no key provider wraps data keys (every localFile key has wrap: false); add one that does");
        }

        if (vault is { Mounts.Count: > 0 } && wrapping.All(k => k.Transit is { SameVaultAsSource: true }))
        {
            throw env.Invalid(env.Child("keys"),
                $"the secrets exported from the Vault at {vault.Server.Address} would be protected only by that Vault's own Transit key: if the Vault is lost, " +
                "so is the key to the backup that could rebuild it. Add a localFile key that wraps, an rsaPublicKey break-glass key, or a key outside that Vault");
        }
    }

    private static ObjectivesConfig ReadObjectives(JsonFields o)
    {
        o.AllowOnly("rtoMinutes", "rpoMinutes");
        return new ObjectivesConfig(o.Int("rtoMinutes", 1, 10_080, ConfigDefaults.RtoMinutes), o.Int("rpoMinutes", 1, 10_080, ConfigDefaults.RpoMinutes));
    }

    private static ScheduleConfig ReadSchedules(JsonFields s)
    {
        s.AllowOnly("binlogShipIntervalMinutes", "fullBackupIntervalHours", "binlogExpiryMarginHours");
        return new ScheduleConfig(s.Int("binlogShipIntervalMinutes", 1, 1440, ConfigDefaults.BinlogShipIntervalMinutes),
            s.Int("fullBackupIntervalHours", 1, 720, ConfigDefaults.FullBackupIntervalHours), s.Int("binlogExpiryMarginHours", 0, 8760, ConfigDefaults.BinlogExpiryMarginHours));
    }

    private static DrillConfig ReadDrill(JsonFields d, string baseDirectory)
    {
        d.AllowOnly("pitrOffsetMinutes", "alembicHead", "migrationsPath", "probes");
        if (d.Has("alembicHead") && d.Has("migrationsPath"))
        {
            throw d.Invalid(d.Path, "give alembicHead or migrationsPath, not both");
        }

        var probes = d.ObjectArray("probes").Select(p =>
        {
            p.AllowOnly("name", "url", "method", "body", "contentType", "expectStatus", "expectBody", "timeoutSeconds");
            var url = p.String("url");
            if (!Uri.TryCreate(url.Replace("{host}", "h", StringComparison.Ordinal).Replace("{port}", "1", StringComparison.Ordinal).Replace("{schema}", "s", StringComparison.Ordinal),
                    UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw p.Invalid(p.Child("url"), "expected an absolute http(s) URL (placeholders {host}, {port}, {schema} allowed)");
            }

            return new ProbeConfig(p.String("name"), url, p.Enum("method", ConfigDefaults.ProbeMethod, ("GET", "GET"), ("POST", "POST"), ("PUT", "PUT"), ("HEAD", "HEAD")),
                p.OptionalString("body"), p.OptionalString("contentType"), p.Int("expectStatus", 100, 599, ConfigDefaults.ProbeExpectStatus), p.OptionalString("expectBody"),
                p.Int("timeoutSeconds", 1, 600, ConfigDefaults.ProbeTimeoutSeconds));
        }).ToList();
        return new DrillConfig(d.Int("pitrOffsetMinutes", 0, 1440, ConfigDefaults.PitrOffsetMinutes), d.OptionalString("alembicHead"),
            d.OptionalString("migrationsPath") is { } m ? ResolvePath(m, baseDirectory) : null, probes);
    }

    private static TelemetryConfig ReadTelemetry(JsonFields t, string baseDirectory)
    {
        t.AllowOnly("textfile", "pushgatewayUrl", "jobLog", "loki");
        var url = t.OptionalString("pushgatewayUrl");
        if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            throw t.Invalid(t.Child("pushgatewayUrl"), "expected an absolute http(s) URL such as http://pushgateway:9091");
        }

        var textfile = t.OptionalString("textfile") is { } file ? ResolvePath(file, baseDirectory) : null;
        if (textfile is not null && !textfile.EndsWith(".prom", StringComparison.Ordinal))
        {
            throw t.Invalid(t.Child("textfile"), "the textfile collector reads only files ending in .prom");
        }

        LokiConfig? loki = null;
        if (t.OptionalObject("loki") is { } l)
        {
            l.AllowOnly("url", "tenant", "tokenEnv");
            var lokiUrl = l.String("url");
            if (!Uri.TryCreate(lokiUrl, UriKind.Absolute, out var lokiUri) || lokiUri.Scheme is not ("http" or "https"))
            {
                throw l.Invalid(l.Child("url"), "expected an absolute http(s) URL such as http://loki:3100");
            }

            if (!t.Has("jobLog"))
            {
                throw l.Invalid(l.Path, "Loki receives the signed job log's lines: set telemetry.jobLog too");
            }

            loki = new LokiConfig(lokiUri, l.OptionalString("tenant"), l.OptionalString("tokenEnv"));
        }

        return new TelemetryConfig(textfile, url, t.OptionalString("jobLog") is { } log ? ResolvePath(log, baseDirectory) : null) { Loki = loki };
    }
}
