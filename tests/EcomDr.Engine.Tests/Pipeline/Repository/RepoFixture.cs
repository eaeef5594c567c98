using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Pipeline.Storage;

namespace EcomDr.Engine.Tests.Pipeline.Repository;

/// <summary>A temp folder with a key file and a file-system repository; deleted afterwards.</summary>
public sealed class RepoFixture : IDisposable
{
    public RepoFixture(int frameSize = 4096)
    {
        Root = Path.Join(Path.GetTempPath(), "ecomdr-repo-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Key = LocalKeyFile.Create(Path.Join(Root, "keys", "test.key"));
        Store = new FileSystemStore("primary", Path.Join(Root, "repo"));
        Trust = new TrustedKeys();
        Trust.Add(Key);
        Context = new RepositoryContext(Store, "prod", new IKeyProvider[] { Key }, Trust, Key, new ArtifactOptions(3, frameSize));
    }

    public string Root { get; }

    public LocalKeyFile Key { get; }

    public FileSystemStore Store { get; }

    public TrustedKeys Trust { get; }

    /// <summary>Settable so that a test can write the legacy manifest format (ManifestVersion = 1).</summary>
    public RepositoryContext Context { get; set; }

    public string PathOf(string key) => Path.Join(Store.Root, key);

    public async Task<BackupInfo> BackupAsync(string kind, params (string Name, byte[] Data)[] artifacts)
    {
        await using var writer = await BackupWriter.BeginAsync(Context, kind, null, CancellationToken.None);
        writer.Source["binlogFile"] = "binlog.000007";
        writer.Source["binlogPosition"] = 4242;
        writer.Source["gtidSet"] = "0-1-99";
        foreach (var (name, data) in artifacts)
        {
            await writer.AddArtifactAsync(name, (s, ct) => s.WriteAsync(data, ct).AsTask(), CancellationToken.None);
        }

        return await writer.CompleteAsync(CancellationToken.None);
    }

    public static byte[] DumpLikeText(int size, int seed = 1)
    {
        var rng = new Random(seed);
        var sb = new System.Text.StringBuilder();
        while (sb.Length < size)
        {
            sb.Append($"INSERT INTO `orders` VALUES ({rng.Next()},{rng.Next(1000)},'paid','BRL',{rng.Next(9)},{rng.Next(100000) / 100m},NULL,'2026-01-0{rng.Next(1, 9)} 10:00:00.{rng.Next(999999):D6}');\n");
        }

        return System.Text.Encoding.UTF8.GetBytes(sb.ToString())[..size];
    }

    public void Dispose()
    {
        Key.Dispose();
        try
        {
            Directory.Delete(Root, true);
        }
        catch (IOException)
        {
        }
    }
}
