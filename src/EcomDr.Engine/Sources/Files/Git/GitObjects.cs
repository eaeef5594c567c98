using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace EcomDr.Engine.Sources.Files.Git;

/// <summary>A git object: its type ("commit", "tree", "blob", "tag") and content.</summary>
internal sealed record GitObject(string Type, byte[] Content);

/// <summary>
/// Reads objects of a SHA-1 repository without a git binary: loose objects (zlib, "type size\0data") and
/// packed ones (pack index v2, then the pack's entry, resolving OFS_DELTA and REF_DELTA chains).
/// Enough to read commits, annotated tags and trees; written from git's documented formats
/// (Documentation/gitformat-pack.txt, gitformat-index.txt).
/// </summary>
internal sealed class GitObjects(string objectsDirectory)
{
    private const int MaxDeltaDepth = 10_000;
    private List<PackIndex>? _packs;

    public GitObject? Read(string sha) => Read(sha, 0);

    private GitObject? Read(string sha, int depth)
    {
        if (depth > MaxDeltaDepth)
        {
            throw new InvalidDataException($"git object {sha}: delta chain too deep");
        }

        var loose = Path.Join(objectsDirectory, sha[..2], sha[2..]);
        if (File.Exists(loose))
        {
            using var file = File.OpenRead(loose);
            using var zlib = new ZLibStream(file, CompressionMode.Decompress);
            using var all = new MemoryStream();
            zlib.CopyTo(all);
            var bytes = all.ToArray();
            var nul = Array.IndexOf(bytes, (byte)0);
            var header = Encoding.ASCII.GetString(bytes, 0, nul);
            return new GitObject(header[..header.IndexOf(' ')], bytes[(nul + 1)..]);
        }

        foreach (var pack in Packs())
        {
            if (pack.Find(sha) is { } offset)
            {
                return ReadPacked(pack, offset, depth);
            }
        }

        return null;
    }

    private List<PackIndex> Packs()
    {
        if (_packs is not null)
        {
            return _packs;
        }

        var folder = Path.Join(objectsDirectory, "pack");
        _packs = Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "pack-*.idx").Select(PackIndex.Load).Where(p => p is not null).Select(p => p!).ToList()
            : [];
        return _packs;
    }

    private GitObject ReadPacked(PackIndex pack, long offset, int depth)
    {
        using var file = File.OpenRead(pack.PackPath);
        file.Position = offset;
        var b = file.ReadByte();
        var type = (b >> 4) & 7;
        long size = b & 15;
        var shift = 4;
        while ((b & 0x80) != 0)
        {
            b = file.ReadByte();
            size |= (long)(b & 0x7F) << shift;
            shift += 7;
        }

        switch (type)
        {
            case 1 or 2 or 3 or 4:
                return new GitObject(type switch { 1 => "commit", 2 => "tree", 3 => "blob", _ => "tag" }, Inflate(file, size));
            case 6:
            {
                // OFS_DELTA: the base is this many bytes before, in git's own offset encoding.
                b = file.ReadByte();
                long back = b & 0x7F;
                while ((b & 0x80) != 0)
                {
                    b = file.ReadByte();
                    back = ((back + 1) << 7) | (long)(b & 0x7F);
                }

                var delta = Inflate(file, size);
                var baseObject = ReadPacked(pack, offset - back, depth + 1);
                return baseObject with { Content = Apply(baseObject.Content, delta) };
            }

            case 7:
            {
                var baseSha = Convert.ToHexString(ReadExactly(file, 20)).ToLowerInvariant();
                var delta = Inflate(file, size);
                var baseObject = Read(baseSha, depth + 1) ?? throw new InvalidDataException($"git object {baseSha} (a delta's base) is missing");
                return baseObject with { Content = Apply(baseObject.Content, delta) };
            }

            default:
                throw new InvalidDataException($"{pack.PackPath}: unknown object type {type} at {offset}");
        }
    }

    private static byte[] ReadExactly(Stream stream, int count)
    {
        var bytes = new byte[count];
        stream.ReadExactly(bytes);
        return bytes;
    }

    private static byte[] Inflate(Stream file, long size)
    {
        using var zlib = new ZLibStream(file, CompressionMode.Decompress, leaveOpen: true);
        var bytes = new byte[size];
        zlib.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>A git delta: source and target sizes, then copy (from the base) and insert instructions.</summary>
    private static byte[] Apply(byte[] source, byte[] delta)
    {
        var i = 0;
        long Varint()
        {
            long value = 0;
            var shift = 0;
            byte b;
            do
            {
                b = delta[i++];
                value |= (long)(b & 0x7F) << shift;
                shift += 7;
            }
            while ((b & 0x80) != 0);
            return value;
        }

        if (Varint() != source.Length)
        {
            throw new InvalidDataException("git delta: its base has another size");
        }

        var target = new byte[Varint()];
        var at = 0;
        while (i < delta.Length)
        {
            var op = delta[i++];
            if ((op & 0x80) != 0)
            {
                long offset = 0, length = 0;
                for (var bit = 0; bit < 4; bit++)
                {
                    if ((op & (1 << bit)) != 0)
                    {
                        offset |= (long)delta[i++] << (8 * bit);
                    }
                }

                for (var bit = 0; bit < 3; bit++)
                {
                    if ((op & (0x10 << bit)) != 0)
                    {
                        length |= (long)delta[i++] << (8 * bit);
                    }
                }

                if (length == 0)
                {
                    length = 0x10000;
                }

                Array.Copy(source, offset, target, at, length);
                at += (int)length;
            }
            else if (op != 0)
            {
                Array.Copy(delta, i, target, at, op);
                i += op;
                at += op;
            }
            else
            {
                throw new InvalidDataException("git delta: reserved instruction 0");
            }
        }

        return at == target.Length ? target : throw new InvalidDataException("git delta: its result has another size");
    }

    /// <summary>A pack index (version 2): object names sorted, with their offsets in the pack.</summary>
    private sealed class PackIndex
    {
        private readonly byte[] _index;
        private readonly int _count;

        private PackIndex(string packPath, byte[] index, int count)
        {
            PackPath = packPath;
            _index = index;
            _count = count;
        }

        public string PackPath { get; }

        public static PackIndex? Load(string idxPath)
        {
            var bytes = File.ReadAllBytes(idxPath);
            if (bytes.Length < 8 + 1024 || bytes[0] != 0xFF || bytes[1] != (byte)'t' || bytes[2] != (byte)'O' || bytes[3] != (byte)'c'
                || BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(4)) != 2)
            {
                return null; // version 1 indexes are from git before 1.5.2: not read
            }

            var count = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(8 + 255 * 4));
            return new PackIndex(Path.ChangeExtension(idxPath, ".pack"), bytes, count);
        }

        public long? Find(string sha)
        {
            var name = Convert.FromHexString(sha);
            var first = name[0];
            var lo = first == 0 ? 0 : (int)BinaryPrimitives.ReadUInt32BigEndian(_index.AsSpan(8 + (first - 1) * 4));
            var hi = (int)BinaryPrimitives.ReadUInt32BigEndian(_index.AsSpan(8 + first * 4)) - 1;
            const int names = 8 + 1024;
            while (lo <= hi)
            {
                var mid = (lo + hi) / 2;
                var cmp = _index.AsSpan(names + mid * 20, 20).SequenceCompareTo(name);
                if (cmp == 0)
                {
                    var offsets = names + _count * 20 + _count * 4;
                    var small = BinaryPrimitives.ReadUInt32BigEndian(_index.AsSpan(offsets + mid * 4));
                    if ((small & 0x80000000) == 0)
                    {
                        return small;
                    }

                    var large = offsets + _count * 4 + (int)(small & 0x7FFFFFFF) * 8;
                    return (long)BinaryPrimitives.ReadUInt64BigEndian(_index.AsSpan(large));
                }

                if (cmp < 0)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            return null;
        }
    }
}
