using System.Text;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Tests.Pipeline.Repository;

/// <summary>
/// The catalog index on a real file-system repository: a summary listing from it says what reading
/// every manifest says; it stands for a manifest only while the store lists that manifest unchanged;
/// an index that is not signed by a trusted key, or does not open, is not used; it shows nothing
/// that describes the shop.
/// </summary>
public sealed class CatalogIndexTests : IDisposable
{
    private readonly RepoFixture _repo = new();

    public void Dispose() => _repo.Dispose();

    private async Task<BackupInfo> FullAsync(string host)
    {
        await using var writer = await BackupWriter.BeginAsync(_repo.Context, "mysql-full", new Dictionary<string, string> { ["ticket"] = "OPS-4242" }, CancellationToken.None);
        writer.Source["binlogFile"] = "binlog.000003";
        writer.Source["binlogPosition"] = 777;
        writer.Source["gtidSet"] = "0-1-5";
        writer.Source["server"] = host;
        await writer.AddArtifactAsync("data/shop.orders.00001.sql", (s, ct) => s.WriteAsync(RepoFixture.DumpLikeText(5000), ct).AsTask(), CancellationToken.None);
        return await writer.CompleteAsync(CancellationToken.None);
    }

    private Task<IReadOnlyList<BackupInfo>> SummariesAsync() => BackupCatalog.ListAsync(_repo.Context, null, CancellationToken.None, CatalogDetail.Summary);

    private async Task WriteIndexAsync() => Assert.True(await CatalogIndex.WriteAsync(_repo.Context, await SummariesAsync(), CancellationToken.None));

    private static string Describe(BackupInfo b) =>
        $"{b.Kind}/{b.Id} {b.Status} {b.Created:O} {b.Completed:O} {b.Size} {b.ArtifactCount} [{b.Coordinates}] {b.Source.ToJsonString()} {string.Join(",", b.Labels.Select(l => $"{l.Key}={l.Value}"))}";

    [Fact]
    public async Task A_summary_from_the_index_says_what_the_manifests_say()
    {
        await FullAsync("db-a.shop.internal:3306");
        await FullAsync("db-b.shop.internal:3306");
        await _repo.BackupAsync("mysql-binlog", ("binlog.000003.000000000000", new byte[100]));
        var full = (await BackupCatalog.ListAsync(_repo.Context, null, CancellationToken.None)).Select(Describe).ToList();
        var fresh = (await SummariesAsync()).Select(Describe).ToList();
        await WriteIndexAsync();
        var indexed = await CatalogIndex.OpenAsync(_repo.Context, CancellationToken.None);
        Assert.Null(indexed.Problem);
        Assert.Equal(3, indexed.Entries().Count());
        var fromIndex = (await SummariesAsync()).Select(Describe).ToList();

        Assert.Equal(full, fresh);
        Assert.Equal(full, fromIndex);
        Assert.Contains(fromIndex, d => d.Contains("db-b.shop.internal:3306", StringComparison.Ordinal) && d.Contains("ticket=OPS-4242", StringComparison.Ordinal));
        Assert.All(await SummariesAsync(), b => Assert.Null(b.Manifest));
    }

    [Fact]
    public async Task An_entry_stands_for_a_manifest_only_while_the_store_lists_it_unchanged()
    {
        var kept = await FullAsync("db-a");
        var edited = await FullAsync("db-b");
        var unfinished = await FullAsync("db-c");
        var removed = await FullAsync("db-d");
        await WriteIndexAsync();
        var added = await FullAsync("db-e");

        // Rewritten after indexing (size or time differ): read again, and found invalid.
        var editedPath = _repo.PathOf(edited.Prefix + RepositoryLayout.ManifestName);
        await File.WriteAllTextAsync(editedPath, (await File.ReadAllTextAsync(editedPath)).Replace("binlog.000003", "binlog.000009", StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(editedPath, File.GetLastWriteTimeUtc(editedPath).AddSeconds(5));
        File.Delete(_repo.PathOf(unfinished.Prefix + RepositoryLayout.ManifestName));
        Directory.Delete(_repo.PathOf(removed.Prefix), true);

        var summaries = (await SummariesAsync()).ToDictionary(b => b.Id);
        Assert.Equal(BackupStatus.Complete, summaries[kept.Id].Status);
        Assert.Equal(BackupStatus.Invalid, summaries[edited.Id].Status);
        Assert.Equal(BackupStatus.Incomplete, summaries[unfinished.Id].Status);
        Assert.False(summaries.ContainsKey(removed.Id));
        Assert.Equal(BackupStatus.Complete, summaries[added.Id].Status);
        Assert.Equal("binlog.000003:777 / 0-1-5", summaries[added.Id].Coordinates);
    }

    [Fact]
    public async Task The_index_is_used_instead_of_the_manifest_while_it_is_listed_unchanged()
    {
        // What the cache trusts, shown: a manifest edited in place with its size and time kept reads as indexed in a
        // summary; the full listing, which every restore, copy and verification uses, reads the manifest and refuses it.
        var backup = await FullAsync("db-a");
        await WriteIndexAsync();
        var path = _repo.PathOf(backup.Prefix + RepositoryLayout.ManifestName);
        var time = File.GetLastWriteTimeUtc(path);
        var bytes = await File.ReadAllBytesAsync(path);
        var at = Encoding.UTF8.GetString(bytes).IndexOf("binlog.000003", StringComparison.Ordinal);
        bytes[at + 12] = (byte)'7';
        await File.WriteAllBytesAsync(path, bytes);
        File.SetLastWriteTimeUtc(path, time);

        Assert.Equal(BackupStatus.Complete, Assert.Single(await SummariesAsync()).Status);
        Assert.Equal(BackupStatus.Invalid, Assert.Single(await BackupCatalog.ListAsync(_repo.Context, null, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task An_index_by_an_untrusted_key_edited_or_unopenable_is_not_used()
    {
        var backup = await FullAsync("db-a");
        using var stranger = LocalKeyFile.Create(Path.Join(_repo.Root, "keys", "stranger.key"));
        var strangerTrust = new TrustedKeys();
        strangerTrust.Add(stranger);
        var foreign = _repo.Context with { KeyProviders = new IKeyProvider[] { stranger }, Trust = strangerTrust, SigningKey = stranger };
        Assert.True(await CatalogIndex.WriteAsync(foreign, await SummariesAsync(), CancellationToken.None));

        var untrusted = await CatalogIndex.OpenAsync(_repo.Context, CancellationToken.None);
        Assert.Empty(untrusted.Entries());
        Assert.Contains("not among the trusted keys", untrusted.Problem, StringComparison.Ordinal);

        // Signed by a trusted key, but its sealed part is wrapped for someone else.
        var unopenable = await CatalogIndex.OpenAsync(_repo.Context with { Trust = strangerTrust }, CancellationToken.None);
        Assert.Empty(unopenable.Entries());
        Assert.Contains("no key given opens", unopenable.Problem, StringComparison.Ordinal);

        await WriteIndexAsync();
        var path = _repo.PathOf(RepositoryLayout.CatalogIndexKey("prod"));
        await File.WriteAllTextAsync(path, (await File.ReadAllTextAsync(path)).Replace("\"entries\":1", "\"entries\":2", StringComparison.Ordinal));
        var edited = await CatalogIndex.OpenAsync(_repo.Context, CancellationToken.None);
        Assert.Empty(edited.Entries());
        Assert.Contains("does not match its signature", edited.Problem, StringComparison.Ordinal);

        // Unused, it changes nothing: the manifests are read.
        Assert.Equal(backup.Id, Assert.Single(await SummariesAsync(), b => b.Status == BackupStatus.Complete).Id);
    }

    [Fact]
    public async Task The_index_shows_nothing_that_describes_the_shop_and_a_reader_does_not_write_one()
    {
        var backup = await FullAsync("db-primary.shop.internal:3306");
        await WriteIndexAsync();
        var text = await File.ReadAllTextAsync(_repo.PathOf(RepositoryLayout.CatalogIndexKey("prod")));
        foreach (var hidden in new[] { "db-primary", "OPS-4242", "ticket", backup.Id, "binlog.000003" })
        {
            Assert.DoesNotContain(hidden, text, StringComparison.Ordinal);
        }

        var reader = _repo.Context with { SigningKey = null };
        Assert.False(await CatalogIndex.WriteAsync(reader, await SummariesAsync(), CancellationToken.None));
        Assert.Single((await CatalogIndex.OpenAsync(reader, CancellationToken.None)).Entries());
    }
}
