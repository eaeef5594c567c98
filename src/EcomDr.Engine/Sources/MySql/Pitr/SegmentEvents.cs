using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using EcomDr.Engine.Pipeline.Repository;
using EcomDr.Engine.Sources.MySql.Binlog;

namespace EcomDr.Engine.Sources.MySql.Pitr;

/// <summary>
/// An event read back from the archive, with the file it belongs to and, when known, when the segment
/// holding it was stored (it was committed on the source before that).
/// </summary>
public sealed record ArchivedEvent(string File, BinlogEvent Event, BinlogFormat Format, DateTimeOffset? ShippedBy = null);

/// <summary>
/// Streams the events of shipped segments in order, from a file and position on: each file is read
/// from its first segment (for its FORMAT_DESCRIPTION), every artifact's hashes are checked as it is
/// read, every event's CRC32 is verified, and events before the start position are skipped.
/// </summary>
public static class SegmentEvents
{
    public static async IAsyncEnumerable<ArchivedEvent> ReadAsync(RepositoryContext context, IReadOnlyList<BinlogSegment> chain, string file, long position,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var start = chain.ToList().FindIndex(s => s.File == file && s.StartOffset == 0);
        if (start < 0)
        {
            throw new Errors.EcomDrException(Errors.ErrorIds.ArtifactMissing, Errors.FailureKind.ObjectNotFound,
                $"No shipped segment holds the start of {file}; point-in-time recovery needs it from offset 0.", file);
        }

        BinlogParser? parser = null;
        string? current = null;
        long offset = 0;
        var header = new byte[BinlogEventHeader.Size];
        foreach (var segment in chain.Skip(start))
        {
            if (segment.File != current)
            {
                current = segment.File;
                parser = new BinlogParser();
                offset = 0;
            }

            var artifact = segment.Backup.Manifest!.Artifacts.Single();
            await using var stream = await ArtifactReader.OpenAsync(context.Store, segment.Backup.Prefix + artifact.Path, artifact, context.KeyProviders, ct).ConfigureAwait(false);
            if (segment.StartOffset == 0)
            {
                await stream.ReadExactlyAsync(header.AsMemory(0, 4), ct).ConfigureAwait(false);
                if (!header.AsSpan(0, 4).SequenceEqual(BinlogParser.Magic))
                {
                    throw new InvalidDataException($"{segment.File} does not start with the binlog magic number.");
                }

                offset = 4;
            }

            while (offset < segment.EndOffset)
            {
                await stream.ReadExactlyAsync(header, ct).ConfigureAwait(false);
                var size = (int)BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(9));
                var raw = new byte[size];
                header.CopyTo(raw, 0);
                await stream.ReadExactlyAsync(raw.AsMemory(BinlogEventHeader.Size), ct).ConfigureAwait(false);
                var e = parser!.Parse(raw, offset);
                offset += size;
                if (segment.File != file || e.Position >= position || e.Type == BinlogEventType.FormatDescription)
                {
                    yield return new ArchivedEvent(segment.File, e, parser.Format, segment.Completed);
                }
            }

            // Reading to the end checks the artifact's hashes.
            if (await stream.ReadAsync(header.AsMemory(0, 1), ct).ConfigureAwait(false) != 0)
            {
                throw new InvalidDataException($"Segment {segment} holds more bytes than its manifest's range.");
            }
        }
    }
}
