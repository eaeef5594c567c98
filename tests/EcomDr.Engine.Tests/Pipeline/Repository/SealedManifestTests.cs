using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Tests.Pipeline.Repository;

/// <summary>
/// Manifest format 2 on a real file-system repository: someone who can list and read the store learns
/// kind, times, sizes, coordinates and the public labels, and nothing that describes the shop; the
/// key opens everything; the sealed part is bound to its backup; format 1 backups stay readable.
/// </summary>
public sealed class SealedManifestTests : IDisposable
{
    private const string Secret = "shop_secret";
    private readonly RepoFixture _repo = new();

    public SealedManifestTests() => _repo.Context = _repo.Context with { PublicLabels = ["gitCommit"] };

    public void Dispose() => _repo.Dispose();

    private async Task<BackupInfo> DescriptiveBackupAsync(string kind = "mysql-full")
    {
        await using var writer = await BackupWriter.BeginAsync(_repo.Context, kind, new Dictionary<string, string> { ["gitCommit"] = "c0ffee42", ["ticket"] = "OPS-7781" },
            CancellationToken.None);
        writer.Source["binlogFile"] = "binlog.000007";
        writer.Source["binlogPosition"] = 4242;
        writer.Source["gtidSet"] = "0-1-99";
        writer.Source["server"] = "db-primary.shop.internal:3306";
        writer.Stats["tables"] = new System.Text.Json.Nodes.JsonObject { [$"{Secret}.customers_private"] = 123457 };
        await writer.AddArtifactAsync($"data/{Secret}/customers_private.00001.sql", (s, ct) => s.WriteAsync(RepoFixture.DumpLikeText(30_000), ct).AsTask(), CancellationToken.None);
        await writer.AddArtifactAsync($"schema/{Secret}.tables.sql", (s, ct) => s.WriteAsync("CREATE TABLE customers_private (id INT)"u8.ToArray(), ct).AsTask(), CancellationToken.None);
        return await writer.CompleteAsync(CancellationToken.None);
    }

    [Fact]
    public async Task The_store_shows_nothing_that_describes_the_shop()
    {
        var backup = await DescriptiveBackupAsync();
        var files = Directory.EnumerateFiles(_repo.Store.Root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(_repo.Store.Root, f).Replace('\\', '/')).ToList();
        Assert.All(files.Where(f => !f.StartsWith("_keys/", StringComparison.Ordinal)),
            f => Assert.Matches($"^prod/mysql-full/{Regex.Escape(backup.Id)}/([0-9]{{6}}\\.edr|manifest\\.json)$", f));

        // Ciphertext, wrapped keys, hashes and the signature are random-looking text that may hold any short string by chance.
        var manifest = Regex.Replace(await File.ReadAllTextAsync(_repo.PathOf(backup.Prefix + "manifest.json")),
            "\"(ciphertext|wrapped|nonce|storedSha256|value)\": ?\"[^\"]*\"", "\"$1\": \"\"");
        foreach (var hidden in new[] { Secret, "customers_private", "db-primary.shop.internal", "123457", "OPS-7781", "ticket", "\"host\"", "plainSha256", "tables.sql" })
        {
            Assert.False(manifest.Contains(hidden, StringComparison.OrdinalIgnoreCase), $"the manifest shows {hidden}");
            Assert.DoesNotContain(hidden, string.Join("\n", files), StringComparison.OrdinalIgnoreCase);
        }

        // What listing, chain checks and retention need stays in clear.
        foreach (var shown in new[] { "\"kind\": \"mysql-full\"", "\"binlogFile\": \"binlog.000007\"", "\"binlogPosition\": 4242", "\"gtidSet\": \"0-1-99\"", "\"gitCommit\": \"c0ffee42\"", "\"storedSha256\"" })
        {
            Assert.Contains(shown, manifest);
        }
    }

    [Fact]
    public async Task A_reader_with_the_key_gets_the_whole_manifest_and_the_bytes()
    {
        var written = await DescriptiveBackupAsync();
        var listed = Assert.Single(await BackupCatalog.ListAsync(_repo.Context, null, CancellationToken.None));
        var manifest = listed.Manifest!;
        Assert.False(manifest.Sealed);
        Assert.Equal(BackupManifest.SealedSchemaVersion, manifest.SchemaVersion);
        Assert.Equal("OPS-7781", manifest.Labels["ticket"]);
        Assert.Equal(System.Environment.MachineName, manifest.Labels["host"]);
        Assert.Equal("db-primary.shop.internal:3306", (string?)manifest.Source["server"]);
        Assert.Equal(123457, (int)manifest.Stats["tables"]![$"{Secret}.customers_private"]!);
        Assert.Equal(written.Manifest!.Artifacts.Select(a => (a.Name, a.Path, a.PlainSha256)), manifest.Artifacts.Select(a => (a.Name, a.Path, a.PlainSha256)));
        Assert.Equal("binlog.000007:4242 / 0-1-99", listed.Coordinates);

        var artifact = manifest.Artifacts.Single(a => a.Name.StartsWith("data/", StringComparison.Ordinal));
        var target = Path.Join(_repo.Root, "out", "chunk.sql");
        await ArtifactExpander.ExpandAsync(_repo.Context, listed, artifact, target, false, CancellationToken.None);
        Assert.Equal(RepoFixture.DumpLikeText(30_000), await File.ReadAllBytesAsync(target));
        Assert.Equal(IntegrityStatus.Passed, (await BackupVerifier.VerifyAsync(_repo.Context, "mysql-full", written.Id, deep: true, null, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task An_auditor_with_the_public_key_only_lists_and_verifies_from_the_clear_fields()
    {
        var written = await DescriptiveBackupAsync();
        var auditor = new RepositoryContext(_repo.Store, "prod", Array.Empty<IKeyProvider>(), _repo.Trust);
        var listed = Assert.Single(await BackupCatalog.ListAsync(auditor, null, CancellationToken.None));
        Assert.Equal((BackupStatus.Complete, written.Size, 2), (listed.Status, listed.Size, listed.ArtifactCount));
        Assert.Equal("binlog.000007:4242 / 0-1-99", listed.Coordinates);
        Assert.True(listed.Manifest!.Sealed);
        Assert.Equal(["gitCommit"], listed.Manifest.Labels.Keys);
        Assert.Null(listed.Manifest.Source["server"]);
        Assert.DoesNotContain(listed.Manifest.Artifacts, a => a.Name.Contains(Secret, StringComparison.Ordinal));
        Assert.Equal(IntegrityStatus.Passed, (await BackupVerifier.VerifyAsync(auditor, "mysql-full", written.Id, deep: false, null, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task A_sealed_part_is_bound_to_its_backup_and_must_agree_with_the_clear_part()
    {
        var first = await DescriptiveBackupAsync();
        var second = await DescriptiveBackupAsync("docs");
        var firstBody = BodyOf(first);
        var sealedPart = firstBody[firstBody.IndexOf("\"sealed\"", StringComparison.Ordinal)..];

        // Signed by the right key, but the sealed part of another backup: it does not open.
        var secondBody = BodyOf(second);
        Resign(second, secondBody[..secondBody.IndexOf("\"sealed\"", StringComparison.Ordinal)] + sealedPart);
        var moved = (await BackupCatalog.ListAsync(_repo.Context, "docs", CancellationToken.None)).Single();
        Assert.Equal(BackupStatus.Invalid, moved.Status);
        Assert.Contains("does not open under its key", moved.Problem);

        // Signed by the right key, a clear coordinate that the sealed manifest does not hold: refused.
        Resign(first, firstBody.Replace("\"binlogPosition\": 4242", "\"binlogPosition\": 4", StringComparison.Ordinal));
        var edited = (await BackupCatalog.ListAsync(_repo.Context, "mysql-full", CancellationToken.None)).Single();
        Assert.Equal(BackupStatus.Invalid, edited.Status);
        Assert.Contains("disagrees with its sealed part", edited.Problem);
    }

    [Fact]
    public async Task Format_1_backups_stay_readable_beside_format_2_ones()
    {
        _repo.Context = _repo.Context with { ManifestVersion = BackupManifest.PlainSchemaVersion };
        var legacy = await DescriptiveBackupAsync();
        _repo.Context = _repo.Context with { ManifestVersion = BackupManifest.SealedSchemaVersion };
        var current = await DescriptiveBackupAsync();

        var legacyText = await File.ReadAllTextAsync(_repo.PathOf(legacy.Prefix + "manifest.json"));
        Assert.Contains("\"schemaVersion\": 1", legacyText);
        Assert.True(File.Exists(_repo.PathOf(legacy.Prefix + $"data/{Secret}/customers_private.00001.sql.zst.edr")));

        var listed = await BackupCatalog.ListAsync(_repo.Context, null, CancellationToken.None);
        Assert.Equal([(legacy.Id, 1), (current.Id, 2)], listed.Select(b => (b.Id, b.Manifest!.SchemaVersion)).ToList());
        foreach (var backup in listed)
        {
            Assert.Equal("OPS-7781", backup.Manifest!.Labels["ticket"]);
            Assert.Equal(IntegrityStatus.Passed, (await BackupVerifier.VerifyAsync(_repo.Context, "mysql-full", backup.Id, deep: true, null, CancellationToken.None)).Status);
        }
    }

    private string BodyOf(BackupInfo backup)
    {
        var text = File.ReadAllText(_repo.PathOf(backup.Prefix + "manifest.json"));
        var start = text.IndexOf("\"manifest\": ", StringComparison.Ordinal) + "\"manifest\": ".Length;
        return text[start..text.IndexOf(",\n\"signature\"", StringComparison.Ordinal)];
    }

    // What an attacker holding the signing key could write: the test shows the sealed part still holds.
    private void Resign(BackupInfo backup, string body)
    {
        var signature = Convert.ToBase64String(_repo.Key.Signing.SignData(Encoding.UTF8.GetBytes(body), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        File.WriteAllText(_repo.PathOf(backup.Prefix + "manifest.json"),
            $"{{\n\"manifest\": {body},\n\"signature\": {{\"algorithm\":\"ECDSA-P256-SHA256\",\"keyId\":\"{_repo.Key.SigningKeyId}\",\"value\":\"{signature}\"}}\n}}\n");
    }
}
