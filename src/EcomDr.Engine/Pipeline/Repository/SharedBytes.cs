namespace EcomDr.Engine.Pipeline.Repository;

/// <summary>Equal byte strings held once (the label sets of backups written by one job); safe to share across threads.</summary>
internal sealed class SharedBytes
{
    private readonly Dictionary<int, List<byte[]>> _held = new();

    public byte[] Share(ReadOnlySpan<byte> value)
    {
        lock (_held)
        {
            return ShareLocked(value);
        }
    }

    private byte[] ShareLocked(ReadOnlySpan<byte> value)
    {
        var hash = new HashCode();
        hash.AddBytes(value);
        var key = hash.ToHashCode();
        if (!_held.TryGetValue(key, out var same))
        {
            _held[key] = same = new List<byte[]>(1);
        }

        foreach (var held in same)
        {
            if (value.SequenceEqual(held))
            {
                return held;
            }
        }

        var copy = value.ToArray();
        same.Add(copy);
        return copy;
    }
}
