using System.Text;
using System.Text.Json;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.Redis;

namespace EcomDr.Engine.Tests.Sources.Redis;

/// <summary>
/// The streaming RDB reader on real RDB files written by Redis 7.2 and 7.4 (tests/vectors/redis, from
/// redis/librdb's test data; only Redis 7.0 can run here), and the damage it must refuse: a wrong
/// CRC-64, a cut-off file, a flipped byte, a version from the future, bytes after the end.
/// </summary>
public sealed class RdbReaderTests
{
    private static string Vector(string name) => Path.Join(AppContext.BaseDirectory, "vectors", "redis", name);

    private static async Task<(RdbSummary Summary, List<RdbKey> Keys)> ReadAsync(byte[] bytes)
    {
        var keys = new List<RdbKey>();
        var summary = await RdbReader.Over(new MemoryStream(bytes), "test.rdb").ReadAsync((k, _) =>
        {
            keys.Add(k);
            return ValueTask.CompletedTask;
        }, CancellationToken.None);
        return (summary, keys);
    }

    [Fact]
    public void Crc64IsRedissJonesPolynomialNotDotNets()
    {
        Assert.Equal(0xe9c6d914c4b8d9caUL, Crc64Jones.Compute("123456789"u8));
        Assert.NotEqual(System.IO.Hashing.Crc64.HashToUInt64("123456789"u8), Crc64Jones.Compute("123456789"u8));
        // Slicing by 8 gives what byte by byte gives, whatever the split.
        var data = Enumerable.Range(0, 1000).Select(i => (byte)(i * 31)).ToArray();
        var split = new Crc64Jones();
        split.Append(data.AsSpan(0, 3));
        split.Append(data.AsSpan(3, 500));
        split.Append(data.AsSpan(503));
        Assert.Equal(Crc64Jones.Compute(data), split.Value);
    }

    [Theory]
    [InlineData("hash_lp_v11.rdb", 11, "hash", "listpack", 2)]
    [InlineData("hash_with_expire_v12.rdb", 12, "hash", "hashtable-ex", 1)]
    [InlineData("hash_lp_with_hexpire_v12.rdb", 12, "hash", "listpack-ex", 1)]
    [InlineData("plain_zset_2_v11.rdb", 11, "zset", "skiplist", 1)]
    [InlineData("zset_lp_v11.rdb", 11, "zset", "listpack", 1)]
    [InlineData("set_is_v11.rdb", 11, "set", "intset", 1)]
    [InlineData("set_lp_v11.rdb", 11, "set", "listpack", 1)]
    [InlineData("quicklist2_v11.rdb", 11, "list", "quicklist", 1)]
    [InlineData("stream_v11.rdb", 11, "stream", "stream", 1)]
    [InlineData("string_lzf.rdb", 11, "string", "string", 2)]
    public async Task ReadsEveryKeyOfARealRdbAndVerifiesItsChecksum(string file, int version, string type, string encoding, int keys)
    {
        var bytes = await File.ReadAllBytesAsync(Vector(file));
        var (summary, read) = await ReadAsync(bytes);
        Assert.Equal(version, summary.Version);
        Assert.Equal(keys, read.Count);
        Assert.All(read, k => Assert.Equal((type, encoding), (k.Type, k.Encoding)));
        Assert.True(summary.ChecksumVerified);
        Assert.Equal(bytes.Length, summary.Bytes);
        Assert.Matches(@"^\d+\.\d+\.\d+$", summary.Aux["redis-ver"]);

        // Where librdb wrote down the content, the keys and their element counts agree with it.
        var expected = Path.ChangeExtension(Vector(file), null) + "_data.json";
        if (File.Exists(expected))
        {
            var text = await File.ReadAllTextAsync(expected);
            using var document = JsonDocument.Parse(text.TrimStart().StartsWith('"') ? "{" + text + "}" : text);
            var entries = document.RootElement.EnumerateObject().Where(p => p.Name != "__aux__").ToDictionary(p => p.Name, p => p.Value);
            Assert.Equal(entries.Keys.Order(StringComparer.Ordinal), read.Select(k => k.KeyText).Order(StringComparer.Ordinal));
            foreach (var key in read)
            {
                var value = entries[key.KeyText];
                var count = value.ValueKind == JsonValueKind.Array ? value.GetArrayLength() : value.EnumerateObject().Count();
                Assert.Equal(type == "zset" && value.ValueKind == JsonValueKind.Array ? count / 2 : count, key.Length);
            }
        }
    }

    [Fact]
    public async Task CountsKeysPerDatabaseAndSkipsModuleAuxAndFunctions()
    {
        var (dbs, keys) = await ReadAsync(await File.ReadAllBytesAsync(Vector("multiple_dbs.rdb")));
        Assert.Equal(new[] { "x", "y", "z" }, keys.Select(k => k.KeyText));
        Assert.Equal(3, dbs.Keys);
        Assert.Equal(3, dbs.KeysPerDatabase.Count);

        var (module, _) = await ReadAsync(await File.ReadAllBytesAsync(Vector("module_aux_v12.rdb")));
        Assert.True(module.ModuleAux > 0);
        var (functions, _) = await ReadAsync(await File.ReadAllBytesAsync(Vector("function2.rdb")));
        Assert.True(functions.Functions > 0);
    }

    [Fact]
    public async Task RefusesAWrongChecksumACutOffFileAFlippedByteAndTrailingBytes()
    {
        var wrong = await Assert.ThrowsAsync<EcomDrException>(async () => await ReadAsync(await File.ReadAllBytesAsync(Vector("invalid_chksum_v8.rdb"))));
        Assert.Equal(ErrorIds.RdbCorrupt, wrong.ErrorId);
        Assert.Contains("CRC-64", wrong.Message, StringComparison.Ordinal);

        var good = await File.ReadAllBytesAsync(Vector("stream_v11.rdb"));
        for (var cut = 1; cut < good.Length; cut += 37)
        {
            var truncated = await Assert.ThrowsAsync<EcomDrException>(() => ReadAsync(good[..cut]));
            Assert.Equal(ErrorIds.RdbCorrupt, truncated.ErrorId);
        }

        for (var offset = 9; offset < good.Length - 8; offset += 23)
        {
            var flipped = (byte[])good.Clone();
            flipped[offset] ^= 0x04;
            var damaged = await Assert.ThrowsAsync<EcomDrException>(() => ReadAsync(flipped));
            Assert.Equal(ErrorIds.RdbCorrupt, damaged.ErrorId);
        }

        var longer = await Assert.ThrowsAsync<EcomDrException>(() => ReadAsync([.. good, 0x0A]));
        Assert.Contains("goes on after its end", longer.Message, StringComparison.Ordinal);

        var future = (byte[])good.Clone();
        Encoding.ASCII.GetBytes("0013").CopyTo(future, 5);
        Assert.Equal(ErrorIds.RdbUnsupported, (await Assert.ThrowsAsync<EcomDrException>(() => ReadAsync(future))).ErrorId);
    }
}
