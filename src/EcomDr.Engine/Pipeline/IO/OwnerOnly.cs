namespace EcomDr.Engine.Pipeline.IO;

/// <summary>
/// Files only their owner may read (0600) in folders only their owner may enter (0700), whatever
/// the umask: a repository's object names and manifests, and the job log, describe the shop.
/// The modes are set explicitly after creation, since the umask only ever removes bits at creation.
/// Windows keeps its inherited ACLs.
/// </summary>
public static class OwnerOnly
{
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates <paramref name="directory"/> and any missing parent below <paramref name="root"/> (the root too when missing), each 0700.</summary>
    public static void CreateDirectory(string directory, string root)
    {
        if (Directory.Exists(directory))
        {
            return;
        }

        var parent = Path.GetDirectoryName(directory);
        if (parent is not null && !string.Equals(Path.TrimEndingDirectorySeparator(directory), Path.TrimEndingDirectorySeparator(root), StringComparison.Ordinal)
            && directory.Length > root.Length)
        {
            CreateDirectory(parent, root);
        }
        else if (parent is not null)
        {
            Directory.CreateDirectory(parent);
        }

        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, DirectoryMode);
        }
    }

    /// <summary>Options for a new file that is 0600 from its first byte.</summary>
    public static FileStreamOptions NewFile(FileAccess access = FileAccess.Write, FileShare share = FileShare.None, int bufferSize = 1 << 16, bool useAsync = true)
    {
        var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = access, Share = share, BufferSize = bufferSize, Options = useAsync ? FileOptions.Asynchronous : FileOptions.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        return options;
    }

    /// <summary>Makes a file just created 0600 (the umask may have taken bits from its creation mode).</summary>
    public static void Restrict(FileStream file)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file.SafeFileHandle, FileMode);
        }
    }

    /// <summary>Makes an existing file 0600.</summary>
    public static void Restrict(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, FileMode);
        }
    }
}
