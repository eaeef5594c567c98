using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Pipeline.Storage;

namespace EcomDr.Engine.Tests.Pipeline.Repository;

public sealed class RepositoryOpenerTests : IDisposable
{
    private readonly string _dir = Path.Join(Path.GetTempPath(), "ecomdr-opener-" + Guid.NewGuid().ToString("N"));

    public RepositoryOpenerTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    private EcomDrConfig Config(bool breakGlass = false) => ConfigLoader.Parse($$"""
        { "schemaVersion": 1, "environments": { "prod": {
            "mysql": { "server": "db" },
            "repositories": { "primary": { "path": "repo" }, "offsite": { "type": "s3", "bucket": "b", "endpoint": "http://127.0.0.1:1" } },
            "keys": [ { "path": "prod.key" } {{(breakGlass ? ", { \"type\": \"rsaPublicKey\", \"path\": \"bg.pem.pub.pem\" }" : "")}} ] } } }
        """, Path.Join(_dir, "ecomdr.json"));

    [Fact]
    public void WithoutAnyKeyItSaysHowToMakeOne()
    {
        var ex = Assert.Throws<EcomDrException>(() => OpenedRepository.Open(Config(), null, new RepositoryRequest()));
        Assert.Equal(ErrorIds.KeyNotFound, ex.ErrorId);
        Assert.Contains("New-DrKey", ex.Message);
        var writer = Assert.Throws<EcomDrException>(() => OpenedRepository.Open(Config(), null, new RepositoryRequest(ForWriting: true)));
        Assert.Equal(ErrorIds.KeyNotFound, writer.ErrorId);
    }

    [Fact]
    public void ReaderWithOnlyThePublicHalfTrustsItButCannotUnwrap()
    {
        using (LocalKeyFile.Create(Path.Join(_dir, "prod.key")))
        {
        }

        File.Move(Path.Join(_dir, "prod.key"), Path.Join(_dir, "elsewhere.key"));
        using var opened = OpenedRepository.Open(Config(), "prod", new RepositoryRequest());
        Assert.Equal(1, opened.Context.Trust.Count);
        Assert.Empty(opened.Context.KeyProviders);
        Assert.Null(opened.Context.SigningKey);
    }

    [Fact]
    public void WritersWrapToBreakGlassKeysReadersDoNot()
    {
        using (LocalKeyFile.Create(Path.Join(_dir, "prod.key")))
        {
        }

        RsaBreakGlassKey.Create(Path.Join(_dir, "bg.pem"));
        using var writer = OpenedRepository.Open(Config(breakGlass: true), null, new RepositoryRequest(ForWriting: true));
        Assert.Equal(new[] { LocalKeyFile.ProviderName, RsaBreakGlassKey.ProviderName }, writer.Context.KeyProviders.Select(p => p.Provider));
        using var reader = OpenedRepository.Open(Config(breakGlass: true), null, new RepositoryRequest());
        Assert.Equal(new[] { LocalKeyFile.ProviderName }, reader.Context.KeyProviders.Select(p => p.Provider));
    }

    [Fact]
    public void StoresByNameAndLocation()
    {
        using (LocalKeyFile.Create(Path.Join(_dir, "prod.key")))
        {
        }

        using var opened = OpenedRepository.Open(Config(), null, new RepositoryRequest());
        Assert.Equal(new Uri(Path.Join(_dir, "repo") + "/").AbsoluteUri, opened.Context.Store.Location);
        Assert.Equal("s3://b/", opened.OpenStore("offsite").Location);
        Assert.Equal(ErrorIds.StoreNotConfigured, Assert.Throws<EcomDrException>(() => opened.OpenStore("tape")).ErrorId);
        Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<EcomDrException>(() => opened.OpenStore("primary")).ErrorId);
        Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<EcomDrException>(() => StoreFactory.FromLocation("x", "s3:///prefix")).ErrorId);
        Assert.Equal("s3://bucket/a/b/", StoreFactory.FromLocation("x", "s3://bucket/a/b").Location);
    }
}
