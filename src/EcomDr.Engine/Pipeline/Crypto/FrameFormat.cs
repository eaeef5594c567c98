using System.Buffers.Binary;

namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>
/// The encrypted artifact layout (docs/format.md, "Encrypted artifact"): a 32-byte header, then frames
/// of AES-256-GCM ciphertext each followed by its 16-byte tag. Every frame but the last holds exactly
/// <see cref="Header.FrameSize"/> plaintext bytes; the last holds fewer (possibly none), which is how a
/// reader knows it is last. The header, the frame index and the final flag are authenticated data of
/// every frame, so editing the header, dropping, reordering, truncating or splicing frames fails.
/// </summary>
public static class FrameFormat
{
    public static ReadOnlySpan<byte> Magic => "EDRA"u8;

    public const byte Version = 1;
    public const byte CipherAes256Gcm = 1;
    public const int HeaderSize = 32;
    public const int TagSize = 16;
    public const int NonceSize = 12;
    public const int AadSize = HeaderSize + 8 + 1;
    public const int DefaultFrameSize = 1 << 20;
    public const int MinFrameSize = 1 << 10;
    public const int MaxFrameSize = 1 << 24;

    /// <summary>The artifact header.</summary>
    public readonly record struct Header(int FrameSize, byte[] FileId)
    {
        public void Write(Span<byte> destination)
        {
            destination[..HeaderSize].Clear();
            Magic.CopyTo(destination);
            destination[4] = Version;
            destination[5] = CipherAes256Gcm;
            BinaryPrimitives.WriteUInt32BigEndian(destination[8..], (uint)FrameSize);
            FileId.CopyTo(destination[12..28]);
        }

        /// <summary>Parses a header; null with a reason when it is not one EcomDr can read.</summary>
        public static Header? Read(ReadOnlySpan<byte> source, out string? problem)
        {
            problem = null;
            if (source.Length < HeaderSize || !source[..4].SequenceEqual(Magic))
            {
                problem = "not an EcomDr encrypted artifact (bad magic)";
                return null;
            }

            if (source[4] != Version || source[5] != CipherAes256Gcm)
            {
                problem = $"unsupported artifact format version {source[4]} / cipher {source[5]}";
                return null;
            }

            var frameSize = BinaryPrimitives.ReadUInt32BigEndian(source[8..]);
            if (frameSize < MinFrameSize || frameSize > MaxFrameSize || source[6] != 0 || source[7] != 0 || !source[28..32].SequenceEqual(new byte[4]))
            {
                problem = "artifact header is damaged";
                return null;
            }

            return new Header((int)frameSize, source[12..28].ToArray());
        }
    }

    /// <summary>Nonce of frame <paramref name="index"/>: 4 zero bytes, then the index (big-endian).</summary>
    public static void Nonce(long index, Span<byte> nonce)
    {
        nonce[..4].Clear();
        BinaryPrimitives.WriteInt64BigEndian(nonce[4..], index);
    }

    /// <summary>Authenticated data of a frame: the 32 header bytes, the index, the final flag.</summary>
    public static void Aad(ReadOnlySpan<byte> header, long index, bool final, Span<byte> aad)
    {
        header[..HeaderSize].CopyTo(aad);
        BinaryPrimitives.WriteInt64BigEndian(aad[HeaderSize..], index);
        aad[HeaderSize + 8] = final ? (byte)1 : (byte)0;
    }
}
