using System.Runtime.InteropServices;
using EcomDr.Engine.Config;
using EcomDr.Engine.Operations.Telemetry;
using EcomDr.Engine.Pipeline.Crypto;
using EcomDr.Engine.Pipeline.Repository;

namespace EcomDr.Engine.Tests.Pipeline.Repository;

/// <summary>
/// Repository files and the job log are 0600 in 0700 folders whatever the umask, and the job log is
/// signed by the environment's own key whatever -KeyFile a run uses. Runs alone: it changes the umask.
/// </summary>
[Collection(nameof(UmaskCollection))]
public sealed class OwnerOnlyTests : IDisposable
{
    private readonly RepoFixture _repo = new();

    public void Dispose() => _repo.Dispose();

#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code; umask takes and returns a plain integer
    [DllImport("libc", EntryPoint = "umask")]
    private static extern uint Umask(uint mask);
#pragma warning restore SYSLIB1054

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task RepositoryFilesAndTheJobLogAreOwnerOnlyUnderAnOpenUmask()
    {
        var log = Path.Join(_repo.Root, "logs", "jobs.jsonl");
        var before = Umask(0); // the widest: every bit the code asks for is kept
        try
        {
            await _repo.BackupAsync("docs", ("a.txt", RepoFixture.DumpLikeText(10_000)), ("sub/b.txt", RepoFixture.DumpLikeText(5_000, 2)));
            await using (await RepositoryLock.AcquireAsync(_repo.Store, "prod", "crash", "test", TimeSpan.FromMinutes(1), CancellationToken.None))
            {
                Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(_repo.PathOf("prod/_locks/crash.lock")));
            }

            var at = DateTimeOffset.UtcNow;
            await JobLog.AppendAsync(log, _repo.Key, new JobOutcome("prod", "file-backup", "docs", "primary", at, at, true), "j1", "finished", CancellationToken.None);
        }
        finally
        {
            Umask(before);
        }

        var files = Directory.EnumerateFiles(_repo.Store.Root, "*", SearchOption.AllDirectories).ToList();
        Assert.True(files.Count >= 3, $"only {files.Count} files written");
        Assert.All(files, f => Assert.True(File.GetUnixFileMode(f) == OwnerOnlyFile, $"{f}: {File.GetUnixFileMode(f)}"));
        var folders = Directory.EnumerateDirectories(_repo.Store.Root, "*", SearchOption.AllDirectories).Prepend(_repo.Store.Root).ToList();
        Assert.All(folders, d => Assert.True(File.GetUnixFileMode(d) == OwnerOnlyFolder, $"{d}: {File.GetUnixFileMode(d)}"));
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(log));
        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(Path.GetDirectoryName(log)!));
    }

    [Fact]
    public void TheJobLogIsSignedByTheEnvironmentsKeyWhateverKeyFileTheRunUses()
    {
        var folder = Path.Join(_repo.Root, "cfg");
        Directory.CreateDirectory(folder);
        var config = ConfigLoader.Parse("""
            { "schemaVersion": 1, "environments": { "prod": { "mysql": { "server": "db" },
              "repositories": { "primary": { "path": "repo" } }, "keys": [ { "path": "prod.key" } ] } } }
            """, Path.Join(folder, "ecomdr.json"));
        using var own = LocalKeyFile.Create(Path.Join(folder, "prod.key"));
        using var other = LocalKeyFile.Create(Path.Join(folder, "other.key"));

        using (var run = OpenedRepository.Open(config, null, new RepositoryRequest(KeyFileOverride: other.Path, ForWriting: true)))
        {
            Assert.Equal(other.SigningKeyId, run.Context.SigningKey!.SigningKeyId); // manifests: the key the run was given
            Assert.Equal(own.SigningKeyId, run.Context.JobLogSigner!.SigningKeyId); // the job log: always the environment's
        }

        using (var normal = OpenedRepository.Open(config, null, new RepositoryRequest(ForWriting: true)))
        {
            Assert.Equal(own.SigningKeyId, normal.Context.JobLogSigner!.SigningKeyId);
        }

        // The environment's key not at hand: nothing is logged rather than a line no verifier trusts.
        File.Move(own.Path, own.Path + ".away");
        using var without = OpenedRepository.Open(config, null, new RepositoryRequest(KeyFileOverride: other.Path, ForWriting: true));
        Assert.Null(without.Context.JobLogSigner);
    }

    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
}

/// <summary>Tests that change the process's umask run apart from the others.</summary>
[CollectionDefinition(nameof(UmaskCollection), DisableParallelization = true)]
public sealed class UmaskCollection
{
}
