using System.Runtime.InteropServices;

namespace EcomDr.Engine.Pipeline.Compression;

/// <summary>
/// The system's libzstd, when present (Debian/Ubuntu ship it as libzstd1): about twice as fast as
/// the managed port, so backups and restores use it where they can. Bound by hand through function
/// pointers so the module needs no native asset of its own and works without it.
/// </summary>
internal static unsafe class NativeZstd
{
    // ZSTD_cParameter and ZSTD_EndDirective values from zstd.h (stable API since 1.4.0).
    public const int CompressionLevelParameter = 100;
    public const int WorkersParameter = 400;
    public const int Continue = 0;
    public const int End = 2;

    private static readonly Lazy<Api?> Loaded = new(Load);

    public static bool IsAvailable => Loaded.Value is not null;

    public static string Version => Loaded.Value?.Version ?? "";

    public static Api Functions => Loaded.Value ?? throw new InvalidOperationException("libzstd is not loaded.");

    [StructLayout(LayoutKind.Sequential)]
    public struct InBuffer
    {
        public byte* Source;
        public nuint Size;
        public nuint Position;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct OutBuffer
    {
        public byte* Destination;
        public nuint Size;
        public nuint Position;
    }

    public sealed class Api
    {
        public required delegate* unmanaged<nint> CreateCCtx;
        public required delegate* unmanaged<nint, nuint> FreeCCtx;
        public required delegate* unmanaged<nint, int, int, nuint> SetParameter;
        public required delegate* unmanaged<nint, OutBuffer*, InBuffer*, int, nuint> CompressStream2;
        public required delegate* unmanaged<nint> CreateDCtx;
        public required delegate* unmanaged<nint, nuint> FreeDCtx;
        public required delegate* unmanaged<nint, OutBuffer*, InBuffer*, nuint> DecompressStream;
        public required delegate* unmanaged<nuint, uint> IsError;
        public required delegate* unmanaged<nuint, byte*> ErrorName;
        public required string Version;

        /// <summary>Throws InvalidDataException for a zstd error code, as the managed streams do.</summary>
        public nuint Check(nuint code)
        {
            if (IsError(code) != 0)
            {
                throw new InvalidDataException("zstd: " + Marshal.PtrToStringAnsi((nint)ErrorName(code)));
            }

            return code;
        }
    }

    private static Api? Load()
    {
        if (string.Equals(Environment.GetEnvironmentVariable("ECOMDR_ZSTD"), "managed", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        foreach (var name in new[] { "libzstd.so.1", "libzstd.1.dylib", "libzstd.dll", "zstd" })
        {
            if (!NativeLibrary.TryLoad(name, out var handle))
            {
                continue;
            }

            nint Export(string symbol) => NativeLibrary.TryGetExport(handle, symbol, out var address) ? address : 0;
            var version = (delegate* unmanaged<uint>)Export("ZSTD_versionNumber");
            var versionText = (delegate* unmanaged<byte*>)Export("ZSTD_versionString");
            // compressStream2 and the parameter API are stable from 1.4.0 on.
            if (version == null || versionText == null || version() < 10400)
            {
                continue;
            }

            var api = new Api
            {
                CreateCCtx = (delegate* unmanaged<nint>)Export("ZSTD_createCCtx"),
                FreeCCtx = (delegate* unmanaged<nint, nuint>)Export("ZSTD_freeCCtx"),
                SetParameter = (delegate* unmanaged<nint, int, int, nuint>)Export("ZSTD_CCtx_setParameter"),
                CompressStream2 = (delegate* unmanaged<nint, OutBuffer*, InBuffer*, int, nuint>)Export("ZSTD_compressStream2"),
                CreateDCtx = (delegate* unmanaged<nint>)Export("ZSTD_createDCtx"),
                FreeDCtx = (delegate* unmanaged<nint, nuint>)Export("ZSTD_freeDCtx"),
                DecompressStream = (delegate* unmanaged<nint, OutBuffer*, InBuffer*, nuint>)Export("ZSTD_decompressStream"),
                IsError = (delegate* unmanaged<nuint, uint>)Export("ZSTD_isError"),
                ErrorName = (delegate* unmanaged<nuint, byte*>)Export("ZSTD_getErrorName"),
                Version = Marshal.PtrToStringAnsi((nint)versionText()) ?? "",
            };
            if (api.CreateCCtx != null && api.FreeCCtx != null && api.SetParameter != null && api.CompressStream2 != null && api.CreateDCtx != null
                && api.FreeDCtx != null && api.DecompressStream != null && api.IsError != null && api.ErrorName != null)
            {
                return api;
            }
        }

        return null;
    }
}
