using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Sources.MySql.Binlog;

/// <summary>A binlog file put back together from its shipped segments; Partial when the server was still writing it.</summary>
public sealed record AssembledBinlog(string File, string Path, long Bytes, int Segments, bool Partial);

/// <summary>
/// Puts the server's binlog files back together from their shipped segments: each segment decrypted
/// and verified, written in order into one file, which is renamed into place only when whole. A closed
/// file comes back byte-identical to the server's, so mysqlbinlog/mariadb-binlog read it as their own.
/// The segments of a file must run from offset 0 without a hole or an overlap; anything else is refused
/// before a byte is written.
/// </summary>
public static class BinlogFileAssembler
{
    public static IReadOnlyList<IReadOnlyList<BinlogSegment>> Plan(IEnumerable<BinlogSegment> segments)
    {
        var files = new List<IReadOnlyList<BinlogSegment>>();
        foreach (var group in segments.DistinctBy(s => s.Id).GroupBy(s => s.File).OrderBy(g => g.Key, Comparer<string>.Create(BinlogCoordinate.CompareFiles)))
        {
            var ordered = group.OrderBy(s => s.StartOffset).ToList();
            var at = 0L;
            foreach (var segment in ordered)
            {
                if (segment.StartOffset != at)
                {
                    var what = segment.StartOffset > at ? $"bytes {at} to {segment.StartOffset} are in no segment given" : $"segments overlap at {segment.StartOffset} (two chains?)";
                    throw new EcomDrException(ErrorIds.BinlogGap, FailureKind.InvalidData,
                        $"{group.Key} cannot be put back together: {what}. Pipe every segment of the file (Get-BinlogChain {group.Key}). Nothing was written.", group.Key);
                }

                at = segment.EndOffset;
            }

            files.Add(ordered);
        }

        return files;
    }

    public static async Task<AssembledBinlog> AssembleAsync(RepositoryContext context, IReadOnlyList<BinlogSegment> file, string destinationFolder, bool overwrite,
        CancellationToken ct)
    {
        var name = file[0].File;
        var target = System.IO.Path.GetFullPath(System.IO.Path.Join(destinationFolder, name));
        if (File.Exists(target) && !overwrite)
        {
            throw new EcomDrException(ErrorIds.DestinationExists, FailureKind.ResourceExists, $"{target} exists; use -Force to replace it.", target);
        }

        Directory.CreateDirectory(destinationFolder);
        var partial = System.IO.Path.Join(destinationFolder, $".{name}.{Guid.NewGuid():N}.partial");
        try
        {
            await using (var output = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 17, useAsync: true))
            {
                foreach (var segment in file)
                {
                    var artifact = segment.Backup.Manifest!.Artifacts.Single();
                    await using var input = await ArtifactReader.OpenAsync(context.Store, segment.Backup.Prefix + artifact.Path, artifact, context.KeyProviders, ct)
                        .ConfigureAwait(false);
                    await input.CopyToAsync(output, 1 << 17, ct).ConfigureAwait(false);
                    if (output.Length != segment.EndOffset)
                    {
                        throw new EcomDrException(ErrorIds.ArtifactCorrupt, FailureKind.InvalidData,
                            $"Segment {segment.Id} of {name} holds {output.Length - segment.StartOffset} bytes, its manifest says {segment.Bytes}.", segment.Id);
                    }
                }
            }

            File.Move(partial, target, overwrite);
            return new AssembledBinlog(name, target, file[^1].EndOffset, file.Count, file[^1].Partial);
        }
        catch (InvalidDataException ex)
        {
            throw new EcomDrException(ErrorIds.ArtifactCorrupt, FailureKind.InvalidData, $"A segment of {name}: {ex.Message}", name, ex);
        }
        finally
        {
            File.Delete(partial);
        }
    }
}
