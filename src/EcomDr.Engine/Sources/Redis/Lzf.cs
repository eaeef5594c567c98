namespace EcomDr.Engine.Sources.Redis;

/// <summary>LZF decompression, as Redis compresses RDB strings (rdbcompression yes): literal runs and back references.</summary>
public static class Lzf
{
    /// <summary>Decompresses <paramref name="input"/> into exactly <paramref name="output"/>; false when the data does not fit that shape.</summary>
    public static bool TryDecompress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int i = 0, o = 0;
        while (i < input.Length)
        {
            int control = input[i++];
            if (control < 32)
            {
                // A literal run of control + 1 bytes.
                var run = control + 1;
                if (i + run > input.Length || o + run > output.Length)
                {
                    return false;
                }

                input.Slice(i, run).CopyTo(output[o..]);
                (i, o) = (i + run, o + run);
                continue;
            }

            // A back reference: length in the top 3 bits (7 means one more byte), offset in 13 bits.
            var length = control >> 5;
            if (length == 7)
            {
                if (i >= input.Length)
                {
                    return false;
                }

                length += input[i++];
            }

            if (i >= input.Length)
            {
                return false;
            }

            var back = o - ((control & 0x1f) << 8) - 1 - input[i++];
            length += 2;
            if (back < 0 || o + length > output.Length)
            {
                return false;
            }

            // Byte by byte: the reference may overlap what it produces.
            for (var k = 0; k < length; k++)
            {
                output[o++] = output[back + k];
            }
        }

        return o == output.Length;
    }
}
