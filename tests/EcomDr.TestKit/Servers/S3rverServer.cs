namespace EcomDr.TestKit.Servers;

/// <summary>
/// A throwaway S3-compatible server: the npm package s3rver 3.7.1, installed by build.ps1 bootstrap
/// into .tools/. Path-style access on http://127.0.0.1:port; any access key is accepted
/// ("S3RVER"/"S3RVER" by convention).
/// </summary>
public sealed class S3rverServer : ServerProcess
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };

    private S3rverServer()
        : base("s3rver")
    {
    }

    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    public override string LogPath => Path.Join(Directory, "s3rver.log");

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public IReadOnlyList<string> Buckets { get; private set; } = Array.Empty<string>();

    public static async Task<S3rverServer> StartAsync(params string[] buckets)
    {
        var script = Locate();
        for (var attempt = 1; ; attempt++)
        {
            var server = new S3rverServer { Buckets = buckets };
            try
            {
                server.Port = FreePort();
                // s3rver 3.7 makes its list continuation tokens with a cipher OpenSSL 3 only has in its legacy provider:
                // without it, any listing past 1,000 keys answers 500.
                var args = new List<string> { "--openssl-legacy-provider", script, "-d", Path.Join(server.Directory, "data"), "-a", "127.0.0.1", "-p", server.Port.ToString() };
                foreach (var bucket in buckets)
                {
                    args.Add("--configure-bucket");
                    args.Add(bucket);
                }

                System.IO.Directory.CreateDirectory(Path.Join(server.Directory, "data"));
                server.StartProcess("node", args, server.LogPath);
                await server.WaitUntilReadyAsync(async () =>
                {
                    using var response = await Http.GetAsync(server.Endpoint + "/");
                    return (int)response.StatusCode < 500;
                }, TimeSpan.FromSeconds(30));
                return server;
            }
            catch (Exception) when (attempt < 3)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>Finds s3rver's entry script: ECOMDR_S3RVER, else .tools/ in this checkout.</summary>
    public static string Locate()
    {
        var configured = Environment.GetEnvironmentVariable("ECOMDR_S3RVER");
        if (!string.IsNullOrEmpty(configured) && File.Exists(configured))
        {
            return configured;
        }

        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Join(dir.FullName, ".tools", "node_modules", "s3rver", "bin", "s3rver.js");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new FileNotFoundException("s3rver is not installed: run 'dotnet pwsh ./build.ps1 bootstrap' (it installs s3rver@3.7.1 into .tools/).");
    }
}
