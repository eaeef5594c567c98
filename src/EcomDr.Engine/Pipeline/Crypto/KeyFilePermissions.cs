using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>Creates secret files readable by their owner only, and refuses ones readable by others.</summary>
internal static class KeyFilePermissions
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static void WriteNew(string path, ReadOnlySpan<byte> content)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            throw new EcomDrException(ErrorIds.KeyExists, FailureKind.ResourceExists,
                $"Key file already exists: {full}. Keys are never overwritten; choose another path or remove it deliberately.", full);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            // Created owner-only, so there is no moment when others could read it. On Windows the
            // file inherits the ACL of its folder (the user profile by default).
            options.UnixCreateMode = OwnerOnly;
        }

        using var stream = new FileStream(full, options);
        stream.Write(content);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Replaces a secret file atomically: the new content is written owner-only beside it, flushed, then
    /// renamed over it, so a crash leaves the old file or the new one.
    /// </summary>
    public static void Replace(string path, ReadOnlySpan<byte> content)
    {
        var full = Path.GetFullPath(path);
        var temporary = $"{full}.{Guid.NewGuid():N}.tmp";
        try
        {
            WriteNew(temporary, content);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public static byte[] ReadSecret(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new EcomDrException(ErrorIds.KeyNotFound, FailureKind.ObjectNotFound, $"Key file not found: {full}", full);
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(full) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            throw new EcomDrException(ErrorIds.KeyInvalid, FailureKind.PermissionDenied,
                $"Key file {full} is accessible to other users; restrict it (chmod 600) before use.", full);
        }

        return File.ReadAllBytes(full);
    }
}
