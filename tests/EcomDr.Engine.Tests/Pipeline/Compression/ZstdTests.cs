using System.Diagnostics;
using System.Text;
using EcomDr.Engine.Pipeline.Compression;

namespace EcomDr.Engine.Tests.Pipeline.Compression;

/// <summary>libzstd (the system's) and ZstdSharp (managed) must write and read the same zstd format.</summary>
public sealed class ZstdTests
{
    private static byte[] Sample(int size, int seed)
    {
        // Half dump-like text, half random bytes: both compressible and incompressible blocks.
        var random = new Random(seed);
        var bytes = new byte[size];
        var text = Encoding.ASCII.GetBytes("INSERT INTO `orders` VALUES (1,'paid','2026-11-29 14:00:00.000000',1234.50),");
        for (var i = 0; i < size; i++)
        {
            bytes[i] = i % 65536 < 32768 ? text[i % text.Length] : (byte)random.Next(256);
        }

        return bytes;
    }

    private static async Task<byte[]> CompressAsync(byte[] plain, bool managed, int workers, int writeSize = 10_000)
    {
        var output = new MemoryStream();
        await using (var z = Zstd.Compress(output, 3, workers, managed))
        {
            for (var i = 0; i < plain.Length; i += writeSize)
            {
                await z.WriteAsync(plain.AsMemory(i, Math.Min(writeSize, plain.Length - i)));
            }
        }

        return output.ToArray();
    }

    private static async Task<byte[]> DecompressAsync(byte[] compressed, bool managed)
    {
        await using var z = Zstd.Decompress(new MemoryStream(compressed), managed);
        var output = new MemoryStream();
        await z.CopyToAsync(output, 7_777);
        return output.ToArray();
    }

    [Fact]
    public void TheDebianTestMachineHasLibzstd()
    {
        // build.ps1 bootstrap installs the zstd package (and so libzstd1); production hosts without it use ZstdSharp.
        Assert.StartsWith("libzstd 1.", Zstd.Implementation, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 0)]
    [InlineData(131_073, 0)]
    [InlineData(5_000_000, 0)]
    [InlineData(5_000_000, 2)]
    public async Task EitherImplementationReadsWhatTheOtherWrote(int size, int workers)
    {
        var plain = Sample(size, size);
        var native = await CompressAsync(plain, managed: false, workers);
        var managed = await CompressAsync(plain, managed: true, workers);
        Assert.Equal(plain, await DecompressAsync(native, managed: true));
        Assert.Equal(plain, await DecompressAsync(native, managed: false));
        Assert.Equal(plain, await DecompressAsync(managed, managed: false));
        if (size > 100_000)
        {
            Assert.True(native.Length < size * 0.7, "the text half compresses");
        }
    }

    [Fact]
    public async Task TheStockZstdToolReadsLibzstdOutput()
    {
        var plain = Sample(2_000_000, 3);
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, await CompressAsync(plain, managed: false, workers: 2));
            using var zstd = Process.Start(new ProcessStartInfo("zstd", new[] { "-dc", file }) { RedirectStandardOutput = true })!;
            var output = new MemoryStream();
            await zstd.StandardOutput.BaseStream.CopyToAsync(output);
            await zstd.WaitForExitAsync();
            Assert.Equal(0, zstd.ExitCode);
            Assert.Equal(plain, output.ToArray());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ConcatenatedFramesReadAsOneStream()
    {
        var a = Sample(300_000, 1);
        var b = Sample(200_000, 2);
        var both = (await CompressAsync(a, false, 0)).Concat(await CompressAsync(b, true, 0)).ToArray();
        Assert.Equal(a.Concat(b).ToArray(), await DecompressAsync(both, managed: false));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CorruptOrTruncatedInputIsInvalidData(bool managed)
    {
        var compressed = await CompressAsync(Sample(400_000, 4), managed: false, workers: 0);
        var flipped = (byte[])compressed.Clone();
        flipped[2] ^= 0xFF; // inside the frame magic
        await Assert.ThrowsAsync<InvalidDataException>(() => DecompressAsync(flipped, managed));
        if (!managed)
        {
            // ZstdSharp's reader returns what it has at a cut; the artifact's plaintext hash catches that.
            await Assert.ThrowsAsync<InvalidDataException>(() => DecompressAsync(compressed[..(compressed.Length / 2)], managed));
        }
    }
}
