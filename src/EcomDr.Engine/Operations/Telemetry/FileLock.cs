namespace EcomDr.Engine.Operations.Telemetry;

/// <summary>An exclusive lock on a file beside the one written (gone when released), shared by concurrent jobs.</summary>
internal static class FileLock
{
    public static async Task<FileStream> AcquireAsync(string path, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (attempt < 100)
            {
                await Task.Delay(100, ct).ConfigureAwait(false);
            }
        }
    }
}
