using System.Text;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.Files;
using EcomDr.Engine.Tests.Pipeline.Repository;

namespace EcomDr.Engine.Tests.Sources.Files;

/// <summary>
/// File backups as jobs, on a real tree and a real repository: a backup then a restore give the same
/// tree (contents, modes, times, links that stay links, an empty folder, names with spaces and
/// accents); an unchanged tree is not backed up again unless forced; include and exclude patterns; every
/// secret rule refuses the backup, naming the file and never the secret; a restore refuses to replace
/// files without -Force, and a damaged artifact writes nothing.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class FileBackupTests : IDisposable
{
    private readonly RepoFixture _repo = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("ecomdr-files-").FullName;

    public void Dispose()
    {
        _repo.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Infra => Path.Join(_dir, "infra");

    private void Write(string relative, string content, UnixFileMode? mode = null, DateTime? modified = null)
    {
        var path = Path.Join(Infra, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        if (mode is { } m)
        {
            File.SetUnixFileMode(path, m);
        }

        File.SetLastWriteTimeUtc(path, modified ?? new DateTime(2026, 11, 30, 8, 15, 42, 123, DateTimeKind.Utc));
    }

    private void MakeTree()
    {
        Write("nginx/sites/shop.conf", "server { listen 443 ssl; server_name shop.example; }\n");
        Write("nginx/nginx.conf", "worker_processes auto;\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        Write("deploy/run.sh", "#!/bin/sh\nexec docker compose up -d\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        Write("compose/docker-compose.yml", "services:\n  api:\n    image: registry.example/shop-api:1.42.0\n");
        Write("docs/Änderungen und Notizen.md", "# Änderungen\n");
        Write(".env.example", "DB_PASSWORD=\nAPI_TOKEN=\n");
        Directory.CreateDirectory(Path.Join(Infra, "empty"));
        File.CreateSymbolicLink(Path.Join(Infra, "nginx/sites-enabled"), "sites");
        File.CreateSymbolicLink(Path.Join(Infra, "current.yml"), "compose/docker-compose.yml");
    }

    private Task<FileBackupResult> BackupAsync(bool force = false, string[]? include = null, string[]? exclude = null, string[]? allow = null) =>
        FileBackup.RunAsync(_repo.Context, new FileBackupRequest("infra", [Infra], "infra", include, exclude, allow, force), null, CancellationToken.None);

    /// <summary>Every entry under a root: type, mode, time to the millisecond, content hash or link target.</summary>
    private static SortedDictionary<string, string> Snapshot(string root)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var info in new DirectoryInfo(root).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var name = Path.GetRelativePath(root, info.FullName);
            result[name] = info.LinkTarget is { } link ? $"link -> {link}"
                : info is DirectoryInfo ? $"dir {info.UnixFileMode} {info.LastWriteTimeUtc:O}"
                : $"file {info.UnixFileMode} {info.LastWriteTimeUtc:O} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(info.FullName)))}";
        }

        return result;
    }

    [Fact]
    public async Task ABackupThenARestoreGiveTheSameTree()
    {
        MakeTree();
        var result = await BackupAsync();
        Assert.NotNull(result.Backup);
        Assert.Equal(6, result.Files);
        var entries = (System.Text.Json.Nodes.JsonArray)result.Backup!.Manifest!.Stats["entries"]!;
        Assert.Contains(entries, e => (string?)e!["name"] == "infra/deploy/run.sh" && (string?)e["mode"] == "0750" && ((string?)e["sha256"])!.Length == 64);
        Assert.Contains(entries, e => (string?)e!["name"] == "infra/nginx/sites-enabled" && (string?)e["type"] == "link" && (string?)e["link"] == "sites");

        var into = Path.Join(_dir, "restored");
        var restored = await FileRestore.RunAsync(_repo.Context, result.Backup, new FileRestoreOptions(into), CancellationToken.None);
        Assert.All(restored, r => Assert.Equal(FileRestore.Restored, r.Action));
        Assert.Equal(Snapshot(Infra), Snapshot(Path.Join(into, "infra")));
        Assert.Equal("sites", new FileInfo(Path.Join(into, "infra/nginx/sites-enabled")).LinkTarget); // a link, not a copy

        // The stock tar reads the artifact as it is.
        var expanded = Path.Join(_dir, "expanded");
        var artifact = result.Backup.Manifest.Artifacts.Single();
        Directory.CreateDirectory(expanded);
        await using (var input = await ArtifactReader.OpenAsync(_repo.Store, result.Backup.Prefix + artifact.Path, artifact, _repo.Context.KeyProviders, CancellationToken.None))
        await using (var output = File.Create(Path.Join(expanded, "files.tar")))
        {
            await input.CopyToAsync(output);
        }

        var tar = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("tar", ["-xpf", "files.tar"]) { WorkingDirectory = expanded })!;
        await tar.WaitForExitAsync();
        Assert.Equal(0, tar.ExitCode);
        Assert.Equal(Snapshot(Infra).Where(e => !e.Key.StartsWith("empty", StringComparison.Ordinal) && !e.Value.StartsWith("dir", StringComparison.Ordinal)).Select(e => e.Key),
            Snapshot(Path.Join(expanded, "infra")).Where(e => !e.Key.StartsWith("empty", StringComparison.Ordinal) && !e.Value.StartsWith("dir", StringComparison.Ordinal)).Select(e => e.Key));
    }

    [Fact]
    public async Task AnUnchangedTreeIsNotBackedUpAgainUnlessForced()
    {
        MakeTree();
        var first = (await BackupAsync()).Backup!;
        var same = await BackupAsync();
        Assert.Null(same.Backup);
        Assert.Equal(first.Id, same.Unchanged!.Id);

        File.SetLastWriteTimeUtc(Path.Join(Infra, "nginx/nginx.conf"), DateTime.UtcNow); // touched, not changed
        Assert.Null((await BackupAsync()).Backup);
        var forced = (await BackupAsync(force: true)).Backup;
        Assert.NotNull(forced);

        Write("nginx/nginx.conf", "worker_processes 4;\n");
        var changed = (await BackupAsync()).Backup;
        Assert.NotNull(changed);
        File.SetUnixFileMode(Path.Join(Infra, "deploy/run.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite); // a mode is a change
        Assert.NotNull((await BackupAsync()).Backup);
        Assert.Equal(4, (await BackupCatalog.ListAsync(_repo.Context, "infra", CancellationToken.None)).Count(b => b.Status == BackupStatus.Complete));
    }

    [Fact]
    public async Task IncludeAndExcludeChooseTheFiles()
    {
        MakeTree();
        var result = await BackupAsync(include: ["*.conf", "compose/**"], exclude: ["nginx/sites/**"]);
        var names = ((System.Text.Json.Nodes.JsonArray)result.Backup!.Manifest!.Stats["entries"]!).Where(e => (string?)e!["type"] != "dir").Select(e => (string)e!["name"]!).Order();
        Assert.Equal(new[] { "infra/compose/docker-compose.yml", "infra/nginx/nginx.conf" }, names);
    }

    [Fact]
    public async Task YamlThatNamesSecretsWithoutHoldingOneIsNoFinding()
    {
        MakeTree();
        // YAML that names secrets without holding one: no finding.
        Write("k8s/api.yaml", "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef: { name: shop-db, key: password }\nvolumes:\n  - secret:\n      secretName: shop-tls\n"
            + "password: ${DB_PASSWORD}\ntoken: \"\"\napi_key: null\ntokenUrl: https://auth.example/token\nprivate_key: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\nsecret: $GF_SECRET\n");
        Assert.NotNull((await BackupAsync()).Backup);
    }

    [Theory]
    [InlineData(".env", "DATABASE_URL=mysql://app@db/shop\n", ".env file")]
    [InlineData("compose/api.env", "LOG_LEVEL=info\n", ".env file")]
    [InlineData("tls/shop.p12", "binary", "PKCS#12 key store")]
    [InlineData("tls/shop.key", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n", "private key (PEM)")]
    [InlineData("tls/legacy.pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n", "private key (PEM)")]
    [InlineData("ssh/deploy_key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n", "private key (OpenSSH)")]
    [InlineData("ci/aws.yml", "region: eu-west-1\naccess_key_id: AKIAZ7QX4PLM2N8R5TVW\n", "AWS access key")]
    [InlineData("ci/vault.sh", "export VAULT_ADDR=https://vault\nvault login hvs.CAESIJ3kq9Lm2Xw7Tt5pQrsZx8uVbNcY\n", "Vault token")]
    [InlineData("ci/release.yml", "token: ghp_Qw3rTy9UiOp1AsDfGhJkLzXcVbNm2468QwEr\n", "GitHub token")]
    [InlineData("ops/alerts.conf", "url = https://hooks\ntoken = xoxb-2215678901-AbCdEfGhIjKlMn\n", "Slack token")]
    [InlineData("app/settings.ini", "[db]\nDB_PASSWORD=Sup3r-S3cret-Value\n", "password= line")]
    [InlineData("grafana/datasources/shop.yaml", "datasources:\n  - name: Shop DB\n    secureJsonData:\n      password: Sup3r-S3cret-Value\n", "password: line (YAML)")]
    [InlineData("ci/deploy.yml", "env:\n  client_secret: 'Sup3r-S3cret-Value'\n", "password: line (YAML)")]
    [InlineData("compose/grafana.yaml", "  - \"basicAuthPassword\": Sup3r-S3cret-Value # prod\n", "password: line (YAML)")]
    public async Task EachSecretRuleRefusesTheBackupAndNamesTheFileNotTheSecret(string relative, string content, string rule)
    {
        MakeTree();
        Write(relative, content);
        var ex = await Assert.ThrowsAsync<EcomDrException>(() => BackupAsync());
        Assert.Equal((ErrorIds.SecretFound, FailureKind.SecurityError), (ex.ErrorId, ex.Kind));
        Assert.Contains($"infra/{relative}", ex.Message, StringComparison.Ordinal);
        Assert.Contains(rule, ex.Message, StringComparison.Ordinal);
        Assert.Contains("Backup-VaultSecret", ex.Message, StringComparison.Ordinal);
        foreach (var secret in content.Split(['\n', ' ', '='], StringSplitOptions.RemoveEmptyEntries).Where(w => w.Length >= 12 && !w.StartsWith("-----", StringComparison.Ordinal)))
        {
            Assert.DoesNotContain(secret, ex.Message, StringComparison.Ordinal);
        }

        Assert.Empty(Directory.Exists(_repo.Store.Root) ? Directory.GetFiles(_repo.Store.Root, "manifest.json", SearchOption.AllDirectories) : []);

        // Kept knowingly: the pattern exempts that file only.
        var allowed = await BackupAsync(allow: [relative]);
        Assert.NotNull(allowed.Backup);
    }

    [Fact]
    public async Task ARestoreRefusesToReplaceFilesWithoutForceAndADamagedArtifactWritesNothing()
    {
        MakeTree();
        var backup = (await BackupAsync()).Backup!;
        var into = Path.Join(_dir, "restored");
        Directory.CreateDirectory(Path.Join(into, "infra/nginx"));
        File.WriteAllText(Path.Join(into, "infra/nginx/nginx.conf"), "local edit\n");

        var refused = await Assert.ThrowsAsync<EcomDrException>(() => FileRestore.RunAsync(_repo.Context, backup, new FileRestoreOptions(into), CancellationToken.None));
        Assert.Equal(ErrorIds.DestinationExists, refused.ErrorId);
        Assert.Contains("infra/nginx/nginx.conf", refused.Message, StringComparison.Ordinal);
        Assert.Equal(new[] { "nginx.conf" }, Directory.GetFileSystemEntries(Path.Join(into, "infra/nginx")).Select(Path.GetFileName));
        var plan = await FileRestore.RunAsync(_repo.Context, backup, new FileRestoreOptions(into, PlanOnly: true), CancellationToken.None);
        Assert.Equal(FileRestore.WouldOverwrite, plan.Single(p => p.Name == "infra/nginx/nginx.conf").Action);
        Assert.Equal(FileRestore.WouldRestore, plan.Single(p => p.Name == "infra/deploy/run.sh").Action);

        var only = await FileRestore.RunAsync(_repo.Context, backup, new FileRestoreOptions(into, Include: ["nginx/**"], Force: true), CancellationToken.None);
        Assert.Equal(FileRestore.Overwritten, only.Single(p => p.Name == "infra/nginx/nginx.conf").Action);
        Assert.Equal("worker_processes auto;\n", File.ReadAllText(Path.Join(into, "infra/nginx/nginx.conf")));
        Assert.False(File.Exists(Path.Join(into, "infra/deploy/run.sh")));

        // One flipped byte in the stored artifact: found before any file is written.
        var stored = Directory.GetFiles(_repo.PathOf(backup.Prefix)).Single(f => !f.EndsWith("manifest.json", StringComparison.Ordinal));
        var bytes = File.ReadAllBytes(stored);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(stored, bytes);
        var fresh = Path.Join(_dir, "fresh");
        var damaged = await Assert.ThrowsAnyAsync<Exception>(() => FileRestore.RunAsync(_repo.Context, backup, new FileRestoreOptions(fresh), CancellationToken.None));
        Assert.True(damaged is EcomDrException or InvalidDataException, damaged.ToString());
        Assert.False(Directory.Exists(fresh) && Directory.EnumerateFileSystemEntries(fresh).Any(), "nothing was written");
    }

    [Fact]
    public async Task TestDrPrerequisiteScansEachSetWithoutBackingItUp()
    {
        MakeTree();
        Write("compose/.env", "DB_PASSWORD=Sup3r-S3cret-Value\n");
        Engine.Config.FileSetConfig Set(string name, string[] paths, string[]? allow = null) => new(name, "infra", paths, [], [], [], allow ?? []);
        var results = await FileSetPrerequisites.RunAsync(new Dictionary<string, Engine.Config.FileSetConfig>
        {
            ["infra"] = Set("infra", [Infra]),
            ["kept"] = Set("kept", [Infra], ["compose/.env"]),
            ["gone"] = Set("gone", [Path.Join(_dir, "nowhere")]),
        }, CancellationToken.None);
        Assert.Equal(
            new[]
            {
                ("Files.gone.Paths", Engine.Sources.MySql.Prerequisites.CheckStatus.Warn),
                ("Files.infra.Paths", Engine.Sources.MySql.Prerequisites.CheckStatus.Pass), ("Files.infra.Secrets", Engine.Sources.MySql.Prerequisites.CheckStatus.Warn),
                ("Files.kept.Paths", Engine.Sources.MySql.Prerequisites.CheckStatus.Pass), ("Files.kept.Secrets", Engine.Sources.MySql.Prerequisites.CheckStatus.Pass),
            },
            results.Select(r => (r.Check, r.Status)));
        var secrets = results.Single(r => r.Check == "Files.infra.Secrets");
        Assert.Contains("infra/compose/.env: .env file", secrets.Observed, StringComparison.Ordinal);
        Assert.DoesNotContain("Sup3r-S3cret-Value", string.Join(" ", results.Select(r => r.Observed + r.Remediation)), StringComparison.Ordinal);
        Assert.Empty(Directory.Exists(_repo.Store.Root) ? Directory.GetFiles(_repo.Store.Root, "*", SearchOption.AllDirectories) : []);
    }
}
