using System.Diagnostics;
using System.Text;
using System.Text.Json;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Pipeline.Storage;

// bench pipeline <input file | gen:BYTES> <repository folder> <key file> [level] [frame size]
//   streams the input through the artifact pipeline into a file-system store and prints JSON
// bench gen-dump <bytes> <output file>
//   writes realistic dump text (multi-row INSERTs of the sample shop's shape)
// bench rpo <port> <seconds> <max lag seconds> <repository folder>
//   Send-Binlog's follow mode under a commit probe: RPO exposure percentiles as JSON
// bench ship <port> <repository folder>
//   one-shot shipping of the whole binlog, timed
// bench replay <port> <repository folder> <file> <position> [threads] [stop file:position]
//   native replay of the shipped binlog from file:position into the server, timed
// bench retention <repository folder | s3://bucket/prefix@endpoint> <key file> <fulls> <segments> seed|cold|warm
//   seed: writes a catalog of full backups and binlog segments; cold: times retention planning without
//   a catalog index, then writes one; warm: times planning with it (one phase per process: its own peak)
// bench redis-snapshot <port> <repository folder> <key file>
//   Backup-RedisSnapshot's engine against the Redis on that port, timed
// bench redis-keys <repository folder> <key file>
//   lists every key of the newest redis backup in the repository (Get-RedisSnapshotKey's engine), timed
return args switch
{
    ["pipeline", var input, var repo, var keyFile, ..] => await PipelineAsync(input, repo, keyFile,
        args.Length > 4 ? int.Parse(args[4]) : 3, args.Length > 5 ? int.Parse(args[5]) : FrameFormat.DefaultFrameSize),
    ["gen-dump", var size, var output] => GenerateDump(long.Parse(size), output),
    ["rpo", var port, var seconds, var lag, var repo] => await RpoBench.RunAsync(int.Parse(port), int.Parse(seconds), int.Parse(lag), repo),
    ["ship", var port, var repo] => await RpoBench.ThroughputAsync(int.Parse(port), repo),
    ["replay", var port, var repo, var file, var position, ..] => await ReplayBench.RunAsync(int.Parse(port), repo, file, long.Parse(position),
        args.Length > 5 ? int.Parse(args[5]) : 1, args.Length > 6 ? args[6] : null),
    ["retention", var repo, var keyFile, var fulls, var segments, var phase] => await RetentionBench.RunAsync(BenchStore(repo), keyFile, int.Parse(fulls), int.Parse(segments), phase),
    ["redis-snapshot", var port, var repo, var keyFile] => await RedisBench.SnapshotAsync(int.Parse(port), repo, keyFile),
    ["redis-keys", var repo, var keyFile] => await RedisBench.KeysAsync(repo, keyFile),
    _ => Usage(),
};

// A folder, or s3://bucket/prefix@http://endpoint (s3rver: S3RVER credentials, path style).
static IObjectStore BenchStore(string location)
{
    if (!location.StartsWith("s3://", StringComparison.Ordinal))
    {
        return new FileSystemStore("bench", location);
    }

    var (path, endpoint) = (location[5..location.IndexOf('@')], location[(location.IndexOf('@') + 1)..]);
    var bucket = path.Split('/')[0];
    var client = S3ObjectStore.CreateClient(endpoint, "us-east-1", true, new Amazon.Runtime.BasicAWSCredentials("S3RVER", "S3RVER"));
    return new S3ObjectStore("bench", client, bucket, path.Length > bucket.Length ? path[(bucket.Length + 1)..] : null);
}

static int Usage()
{
    Console.Error.WriteLine("usage: bench pipeline <file|gen:BYTES> <repo> <key> [level] [frame] | bench gen-dump <bytes> <file>");
    return 2;
}

static async Task<int> PipelineAsync(string input, string repo, string keyFile, int level, int frame)
{
    using var key = File.Exists(keyFile) ? LocalKeyFile.Load(keyFile) : LocalKeyFile.Create(keyFile);
    var store = new FileSystemStore("bench", repo);
    await using Stream source = input.StartsWith("gen:", StringComparison.Ordinal)
        ? new DumpTextStream(long.Parse(input[4..]))
        : new FileStream(input, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
    var clock = Stopwatch.StartNew();
    var entry = await ArtifactWriter.WriteAsync(store, $"bench/{Guid.NewGuid():N}.zst.edr", "bench", source,
        new IKeyProvider[] { key }, new ArtifactOptions(level, frame), CancellationToken.None);
    clock.Stop();
    using var self = Process.GetCurrentProcess();
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        seconds = clock.Elapsed.TotalSeconds,
        plainBytes = entry.PlainSize,
        storedBytes = entry.StoredSize,
        mbPerSecond = entry.PlainSize / 1e6 / clock.Elapsed.TotalSeconds,
        peakWorkingSetMB = self.PeakWorkingSet64 / 1e6,
    }));
    return 0;
}

static int GenerateDump(long size, string output)
{
    using var stream = new DumpTextStream(size);
    using var file = File.Create(output);
    stream.CopyTo(file, 1 << 20);
    return 0;
}

/// <summary>Endless-looking dump text of a given length, generated on the fly (no memory or disk needed).</summary>
internal sealed class DumpTextStream : Stream
{
    private static readonly string[] Names = { "João Silva", "María García 🛒", "Zoë Müller", "李娜", "O'Brien, Ana", "Łukasz Nowak" };
    private static readonly string[] Status = { "pending", "paid", "shipped", "refunded" };
    private readonly long _length;
    private readonly Random _rng = new(42);
    private readonly StringBuilder _sb = new();
    private byte[] _chunk = Array.Empty<byte>();
    private int _offset;
    private long _position;
    private long _id;

    public DumpTextStream(long length) => _length = length;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (_position >= _length)
        {
            return 0;
        }

        if (_offset == _chunk.Length)
        {
            _chunk = NextChunk();
            _offset = 0;
        }

        var take = (int)Math.Min(Math.Min(count, _chunk.Length - _offset), _length - _position);
        Buffer.BlockCopy(_chunk, _offset, buffer, offset, take);
        _offset += take;
        _position += take;
        return take;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private byte[] NextChunk()
    {
        _sb.Clear().Append("INSERT INTO `orders` (`id`,`customer_id`,`status`,`currency`,`item_count`,`total`,`notes`,`placed_at`,`updated_at`) VALUES ");
        for (var i = 0; i < 500; i++)
        {
            _id++;
            var placed = new DateTime(2026, 1, 1).AddSeconds(_id * 37 + _rng.Next(30));
            _sb.Append(i == 0 ? "(" : ",(").Append(_id).Append(',').Append(_rng.Next(1, 2_000_000)).Append(",'").Append(Status[_rng.Next(Status.Length)])
                .Append("','BRL',").Append(_rng.Next(1, 12)).Append(',').Append(_rng.Next(199, 9_999_999) / 100m)
                .Append(',').Append(_rng.Next(8) == 0 ? $"'{Names[_rng.Next(Names.Length)].Replace("'", "\\'")}: entregar na portaria'" : "NULL")
                .Append(",'").Append(placed.ToString("yyyy-MM-dd HH:mm:ss.ffffff")).Append("','").Append(placed.AddMinutes(5).ToString("yyyy-MM-dd HH:mm:ss"))
                .Append("')");
        }

        return Encoding.UTF8.GetBytes(_sb.Append(";\n").ToString());
    }
}
