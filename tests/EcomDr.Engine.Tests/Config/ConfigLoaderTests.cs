using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Snapshots;

namespace EcomDr.Engine.Tests.Config;

public class ConfigLoaderTests
{
    private const string Valid = """
        {
          "schemaVersion": 1,
          "defaultEnvironment": "prod",
          "environments": {
            "prod": {
              "mysql": { "server": "db1.internal", "port": 3307, "sslMode": "Required", "schemas": ["ecommerce"],
                         "credential": { "user": "ecomdr_backup", "passwordEnv": "ECOMDR_MYSQL_PASSWORD" } },
              "repositories": {
                "primary": { "type": "filesystem", "path": "repo" },
                "offsite": { "type": "s3", "bucket": "dr", "prefix": "prod/", "endpoint": "https://s3.example.com", "forcePathStyle": true,
                             "accessKeyEnv": "AK", "secretKeyEnv": "SK", "storageClass": "STANDARD_IA" }
              },
              "keys": [ { "type": "localFile", "path": "keys/prod.key" }, { "type": "rsaPublicKey", "path": "/etc/ecomdr/breakglass.pem" } ],
              "objectives": { "rtoMinutes": 60, "rpoMinutes": 15 },
              "schedules": { "binlogShipIntervalMinutes": 5 }
            },
            "drill": {
              "mysql": { "server": "127.0.0.1", "credential": { "automationCredential": "EcomDrDrill" } },
              "repositories": { "primary": { "path": "/srv/drill" } },
              "keys": [ { "path": "~/drill.key" } ]
            }
          }
        }
        """;

    [Fact]
    public void ParsesEveryField()
    {
        var config = ConfigLoader.Parse(Valid, "/etc/ecomdr/ecomdr.json");
        var prod = config.GetEnvironment(null);
        Assert.Equal("prod", prod.Name);
        Assert.Equal(("db1.internal", 3307, "Required"), (prod.MySql!.Server, prod.MySql.Port, prod.MySql.SslMode));
        Assert.Equal(new[] { "ecommerce" }, prod.MySql.Schemas);
        Assert.Equal("ECOMDR_MYSQL_PASSWORD", prod.MySql.Credential!.PasswordEnvironmentVariable);
        Assert.Equal(Path.GetFullPath("/etc/ecomdr/repo"), prod.Repositories["primary"].Path);
        var s3 = prod.Repositories["offsite"].S3!;
        Assert.Equal(("dr", "prod/", true, "STANDARD_IA"), (s3.Bucket, s3.Prefix, s3.ForcePathStyle, s3.StorageClass));
        Assert.Equal(Path.GetFullPath("/etc/ecomdr/keys/prod.key"), prod.Keys[0].Path);
        Assert.Equal(KeyProviderType.RsaPublicKey, prod.Keys[1].Type);
        Assert.Equal(5, prod.Schedules.BinlogShipIntervalMinutes);
        Assert.Equal(24, prod.Schedules.FullBackupIntervalHours);

        var drill = config.GetEnvironment("drill");
        Assert.Equal(3306, drill.MySql!.Port);
        Assert.Equal("EcomDrDrill", drill.MySql.Credential!.AutomationCredential);
        Assert.Equal(Path.Join(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "drill.key"), drill.Keys[0].Path);
        Assert.Equal((60, 15), (drill.Objectives.RtoMinutes, drill.Objectives.RpoMinutes));
    }

    [Theory]
    [InlineData("\"port\": 3307", "\"port\": 70000", "environments.prod.mysql.port", "from 1 to 65535")]
    [InlineData("\"port\": 3307", "\"port\": \"x\"", "environments.prod.mysql.port", "got a string")]
    [InlineData("\"server\": \"db1.internal\", ", "", "environments.prod.mysql.server", "required field is missing")]
    [InlineData("\"sslMode\": \"Required\"", "\"sslMode\": \"Maybe\"", "environments.prod.mysql.sslMode", "not one of")]
    [InlineData("\"passwordEnv\": \"ECOMDR_MYSQL_PASSWORD\"", "\"password\": \"hunter2\"", "environments.prod.mysql.credential.password", "never written")]
    [InlineData("\"passwordEnv\": \"ECOMDR_MYSQL_PASSWORD\"", "\"passwordEnv\": \"X\", \"vault\": \"secret/data/x\"", "environments.prod.mysql.credential", "exactly one")]
    [InlineData("\"primary\": { \"type\": \"filesystem\", \"path\": \"repo\" },", "", "environments.prod.repositories", "'primary' repository is required")]
    [InlineData("\"type\": \"s3\", \"bucket\": \"dr\"", "\"type\": \"s3\"", "environments.prod.repositories.offsite.bucket", "required field is missing")]
    [InlineData("\"endpoint\": \"https://s3.example.com\"", "\"endpoint\": \"not a url\"", "environments.prod.repositories.offsite.endpoint", "absolute URL")]
    [InlineData("\"secretKeyEnv\": \"SK\",", "", "environments.prod.repositories.offsite", "go together")]
    [InlineData("\"binlogShipIntervalMinutes\": 5", "\"binlogShipIntervalMinutes\": 30", "environments.prod.schedules.binlogShipIntervalMinutes", "cannot meet an RPO")]
    [InlineData("\"objectives\"", "\"objectivs\"", "environments.prod.objectivs", "unknown field")]
    [InlineData("\"defaultEnvironment\": \"prod\"", "\"defaultEnvironment\": \"qa\"", "defaultEnvironment", "names no environment")]
    [InlineData("\"schemaVersion\": 1", "\"schemaVersion\": 2", "schemaVersion", "not supported")]
    [InlineData("{ \"type\": \"localFile\", \"path\": \"keys/prod.key\" }, ", "", "environments.prod.keys", "localFile")]
    public void BadFieldIsOneErrorNamingFileAndField(string find, string replace, string field, string what)
    {
        Assert.Contains(find, Valid);
        var ex = Assert.Throws<EcomDrException>(() => ConfigLoader.Parse(Valid.Replace(find, replace), "/etc/ecomdr/ecomdr.json"));
        Assert.Equal(ErrorIds.ConfigInvalid, ex.ErrorId);
        Assert.Equal(FailureKind.InvalidData, ex.Kind);
        Assert.StartsWith($"/etc/ecomdr/ecomdr.json: {field}: ", ex.Message);
        Assert.Contains(what, ex.Message);
        Assert.DoesNotContain("hunter2", ex.Message);
    }

    [Fact]
    public void MalformedJsonNamesFileAndLine()
    {
        var ex = Assert.Throws<EcomDrException>(() => ConfigLoader.Parse("{\n \"schemaVersion\": 1,\n \"environments\": { x }\n}", "c.json"));
        Assert.Equal(ErrorIds.ConfigInvalid, ex.ErrorId);
        Assert.Contains("c.json: not valid JSON (line 3", ex.Message);
    }

    [Fact]
    public void MissingFileAndUnknownEnvironmentHaveTheirOwnIds()
    {
        var missing = Assert.Throws<EcomDrException>(() => ConfigLoader.Load(Path.Join(Path.GetTempPath(), Guid.NewGuid() + ".json")));
        Assert.Equal((ErrorIds.ConfigNotFound, FailureKind.ObjectNotFound), (missing.ErrorId, missing.Kind));

        var config = ConfigLoader.Parse(Valid, "x.json");
        var unknown = Assert.Throws<EcomDrException>(() => config.GetEnvironment("qa"));
        Assert.Equal(ErrorIds.EnvironmentNotFound, unknown.ErrorId);
        Assert.Contains("known: drill, prod", unknown.Message);
    }

    [Fact]
    public void DocumentedExampleParses()
    {
        var example = Path.Join(RepoRoot(), "docs", "ecomdr.example.json");
        var config = ConfigLoader.Load(example);
        Assert.NotEmpty(config.Environments);
        Assert.All(config.Environments.Values, e => Assert.True(e.Repositories.ContainsKey("primary")));
    }

    [Fact]
    public void EmbeddedDefaultsAreAFileSystemRepositoryAndALocalKey()
    {
        var env = EmbeddedDefaults.Create().GetEnvironment(null);
        Assert.Equal(RepositoryType.FileSystem, env.Repositories["primary"].Type);
        Assert.Equal(KeyProviderType.LocalFile, Assert.Single(env.Keys).Type);
        Assert.True(Path.IsPathRooted(env.Repositories["primary"].Path));
    }

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Join(dir.FullName, "EcomDr.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("EcomDr.sln not found above " + AppContext.BaseDirectory);
    }

    private static string WithSnapshot(string section) =>
        Valid.Replace("\"schemas\": [\"ecommerce\"],", "\"schemas\": [\"ecommerce\"], \"volumeSnapshot\": " + section + ",", StringComparison.Ordinal);

    [Fact]
    public void ReadsTheVolumeSnapshotProviders()
    {
        var directory = ConfigLoader.Parse(WithSnapshot("""{ "provider": "directory", "directory": { "path": "snaps", "offsitePath": "/mnt/offsite" } }"""), "/etc/ecomdr/ecomdr.json")
            .GetEnvironment("prod").MySql!.VolumeSnapshot!;
        Assert.Equal((Engine.Config.SnapshotProviderType.Directory, 30, "/etc/ecomdr/snaps", "/mnt/offsite"),
            (directory.Provider, directory.MaxFreezeSeconds, directory.Directory!.Path, directory.Directory.OffsitePath));
        Assert.IsType<Engine.Sources.MySql.Snapshots.DirectorySnapshotProvider>(directory.CreateProvider());

        var command = ConfigLoader.Parse(WithSnapshot("""
            { "provider": "command", "maxFreezeSeconds": 12, "dataDirectory": "/var/lib/mysql",
              "command": { "take": ["/usr/local/bin/snap", "take"], "delete": ["/usr/local/bin/snap", "delete"], "copy": ["/usr/local/bin/snap", "copy"],
                           "region": "eu-west-1", "copyRegion": "eu-central-1", "encrypted": true } }
            """), "/etc/ecomdr/ecomdr.json").GetEnvironment("prod").MySql!.VolumeSnapshot!;
        Assert.Equal((12, "/var/lib/mysql", "take", "eu-central-1", true),
            (command.MaxFreezeSeconds, command.DataDirectory, command.Command!.Take[1], command.Command.CopyRegion, command.Command.Encrypted));
        Assert.Equal("command", command.CreateProvider().Name);

        var ebs = ConfigLoader.Parse(WithSnapshot("""
            { "provider": "aws-ebs", "awsEbs": { "region": "eu-west-1", "instanceId": "i-0db1", "copyRegion": "eu-central-1", "copyKmsKeyId": "alias/offsite",
              "completionTimeoutMinutes": 30, "tags": { "team": "shop" } } }
            """), "/etc/ecomdr/ecomdr.json").GetEnvironment("prod").MySql!.VolumeSnapshot!;
        Assert.Equal(("eu-west-1", "i-0db1", "eu-central-1", "alias/offsite", true, 30.0, "shop"),
            (ebs.AwsEbs!.Region, ebs.AwsEbs.InstanceId, ebs.AwsEbs.CopyRegion, ebs.AwsEbs.CopyKmsKeyId, ebs.AwsEbs.Encrypted, ebs.AwsEbs.CompletionTimeout.TotalMinutes, ebs.AwsEbs.Tags!["team"]));
        using var provider = (AwsEbsSnapshotProvider)ebs.CreateProvider();
        Assert.Equal("aws-ebs", provider.Name);
    }

    [Theory]
    [InlineData("""{ "directory": { "path": "x" } }""", "environments.prod.mysql.volumeSnapshot.provider", "provider is required")]
    [InlineData("""{ "provider": "zfs" }""", "environments.prod.mysql.volumeSnapshot.provider", "not one of")]
    [InlineData("""{ "provider": "aws-ebs" }""", "environments.prod.mysql.volumeSnapshot.awsEbs", "required field is missing")]
    [InlineData("""{ "provider": "aws-ebs", "awsEbs": { "region": "eu-west-1" } }""", "environments.prod.mysql.volumeSnapshot.awsEbs", "exactly one of volumeId")]
    [InlineData("""{ "provider": "aws-ebs", "awsEbs": { "region": "eu-west-1", "volumeId": "v", "instanceId": "i" } }""", "environments.prod.mysql.volumeSnapshot.awsEbs", "exactly one of volumeId")]
    [InlineData("""{ "provider": "aws-ebs", "awsEbs": { "region": "eu-west-1", "volumeId": "v", "copyKmsKeyId": "k" } }""", "environments.prod.mysql.volumeSnapshot.awsEbs.copyKmsKeyId", "copyRegion")]
    [InlineData("""{ "provider": "aws-ebs", "awsEbs": { "region": "eu-west-1", "volumeId": "v", "accessKeyEnv": "A" } }""", "environments.prod.mysql.volumeSnapshot.awsEbs", "go together")]
    [InlineData("""{ "provider": "aws-ebs", "awsEbs": { "region": "eu-west-1", "volumeId": "v", "tags": { "team": 1 } } }""", "environments.prod.mysql.volumeSnapshot.awsEbs.tags.team", "non-empty string")]
    [InlineData("""{ "provider": "directory", "directory": { "path": "x" }, "command": { "take": ["a"], "delete": ["b"] } }""", "environments.prod.mysql.volumeSnapshot.command", "for the command provider")]
    [InlineData("""{ "provider": "command", "command": { "take": [], "delete": ["b"] } }""", "environments.prod.mysql.volumeSnapshot.command.take", "as an array")]
    [InlineData("""{ "provider": "command", "command": { "take": ["a"], "delete": ["b"], "copy": ["c"] } }""", "environments.prod.mysql.volumeSnapshot.command.copyRegion", "needs the region")]
    [InlineData("""{ "provider": "directory", "directory": { "path": "x" }, "maxFreezeSeconds": 0 }""", "environments.prod.mysql.volumeSnapshot.maxFreezeSeconds", "from 1 to 3600")]
    public void RefusesABadVolumeSnapshotSection(string section, string path, string message)
    {
        var ex = Assert.Throws<EcomDrException>(() => ConfigLoader.Parse(WithSnapshot(section), "/etc/ecomdr/ecomdr.json"));
        Assert.Equal(ErrorIds.ConfigInvalid, ex.ErrorId);
        Assert.Contains(path + ":", ex.Message, StringComparison.Ordinal);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    private static string WithSection(string name, string section) =>
        Valid.Replace("\"objectives\": { \"rtoMinutes\": 60, \"rpoMinutes\": 15 },", $"\"objectives\": {{ \"rtoMinutes\": 60, \"rpoMinutes\": 15 }}, \"{name}\": {section},", StringComparison.Ordinal);

    [Fact]
    public void ReadsFileSetsAndTheRestoreSection()
    {
        var pem = System.Security.Cryptography.PemEncoding.WriteString("PUBLIC KEY", System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256).ExportSubjectPublicKeyInfo()).Replace("\n", "\\n", StringComparison.Ordinal);
        var env = ConfigLoader.Parse(WithSection("files", """{ "infra": { "kind": "infra", "paths": ["infra", "/etc/nginx"], "exclude": ["**/*.log"], "stores": ["offsite"] } }"""),
            "/etc/ecomdr/ecomdr.json").GetEnvironment("prod");
        var infra = env.RequireFileSet(null, "infra");
        Assert.Equal(("infra", "/etc/ecomdr/infra", "/etc/nginx", "**/*.log", "offsite"), (infra.Kind, infra.Paths[0], infra.Paths[1], infra.Exclude[0], infra.Stores[0]));
        Assert.Equal(ErrorIds.SourceNotConfigured, Assert.Throws<EcomDrException>(() => env.RequireFileSet(null, "docs")).ErrorId);
        Assert.Equal(168, infra.IntervalHours); // the plan's weekly infra backup
        var sets = ConfigLoader.Parse(WithSection("files", """{ "docs": { "kind": "docs", "paths": ["docs"] }, "edge": { "kind": "infra", "paths": ["edge"], "intervalHours": 12 } }"""),
            "/etc/ecomdr/ecomdr.json").GetEnvironment("prod").Files!;
        Assert.Equal((24, 12), (sets["docs"].IntervalHours, sets["edge"].IntervalHours));

        var restore = ConfigLoader.Parse(WithSection("restore", $$"""{ "requiredApprovals": 1, "protectedTargets": ["db1.internal"], "approvers": [ { "name": "bob", "publicKey": "{{pem}}" } ] }"""),
            "/etc/ecomdr/ecomdr.json").GetEnvironment("prod").Restore!;
        Assert.Equal((1, 24, "bob"), (restore.RequiredApprovals, restore.ApprovalHours, restore.Approvers.Single().Name));
        Assert.True(restore.Protects("db1.internal", 3307));
        Assert.False(restore.Protects("db2.internal", 3307));
    }

    [Fact]
    public void ReadsTheLokiOfTheJobLog()
    {
        var telemetry = ConfigLoader.Parse(WithSection("telemetry", """{ "jobLog": "logs/jobs.jsonl", "loki": { "url": "https://logs.example.com/", "tenant": "shop", "tokenEnv": "LOKI_TOKEN" } }"""),
            "/etc/ecomdr/ecomdr.json").GetEnvironment("prod").Telemetry!;
        Assert.Equal(("/etc/ecomdr/logs/jobs.jsonl", "https://logs.example.com/", "shop", "LOKI_TOKEN"),
            (telemetry.JobLog, telemetry.Loki!.Url.ToString(), telemetry.Loki.Tenant, telemetry.Loki.TokenEnvironmentVariable));
    }

    [Theory]
    [InlineData("files", """{ "infra": { "kind": "infra" } }""", "environments.prod.files.infra.paths", "at least one path")]
    [InlineData("files", """{ "infra": { "kind": "in fra", "paths": ["x"] } }""", "environments.prod.files.infra.kind", "letters, digits")]
    [InlineData("files", """{ "infra": { "kind": "infra", "paths": ["x"], "stores": ["tape"] } }""", "environments.prod.files.infra.stores", "'tape' is not a repository")]
    [InlineData("restore", """{ "requiredApprovals": 1, "protectedTargets": ["db1"] }""", "environments.prod.restore.requiredApprovals", "only 0 approver(s) listed")]
    [InlineData("restore", """{ "approvers": [ { "name": "bob", "publicKey": "/nonexistent/bob.pub.pem" } ] }""", "environments.prod.restore.approvers[0].publicKey", "does not exist")]
    [InlineData("files", """{ "infra": { "kind": "infra", "paths": ["x"], "intervalHours": 0 } }""", "environments.prod.files.infra.intervalHours", "from 1 to 8760")]
    [InlineData("telemetry", """{ "loki": { "url": "http://loki:3100" } }""", "environments.prod.telemetry.loki", "set telemetry.jobLog too")]
    [InlineData("telemetry", """{ "jobLog": "j.jsonl", "loki": { "url": "loki:3100" } }""", "environments.prod.telemetry.loki.url", "absolute http(s) URL")]
    [InlineData("telemetry", """{ "jobLog": "j.jsonl", "loki": { "url": "http://loki:3100", "token": "x" } }""", "environments.prod.telemetry.loki.token", "")]
    public void RefusesABadFilesOrRestoreSection(string name, string section, string path, string message)
    {
        var ex = Assert.Throws<EcomDrException>(() => ConfigLoader.Parse(WithSection(name, section), "/etc/ecomdr/ecomdr.json"));
        Assert.Equal(ErrorIds.ConfigInvalid, ex.ErrorId);
        Assert.Contains(path + ":", ex.Message, StringComparison.Ordinal);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }
}
