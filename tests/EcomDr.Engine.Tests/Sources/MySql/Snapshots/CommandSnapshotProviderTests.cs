using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Snapshots;

namespace EcomDr.Engine.Tests.Sources.MySql.Snapshots;

/// <summary>The "command" snapshot provider, running real scripts: ids from stdout, facts in the environment, errors with masked stderr, a hang killed.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CommandSnapshotProviderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ecomdr-snapcmd-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Script(string name, string body)
    {
        var path = Path.Join(_dir, name);
        File.WriteAllText(path, "#!/bin/bash\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static SnapshotRequest Request() =>
        new("mysql-snapshot-20261207T000000Z", "/var/lib/mysql", new Dictionary<string, string> { ["environment"] = "prod", ["git-tag"] = "v1.2.3" });

    [Fact]
    public async Task TakeReadsTheIdsFromStdoutAndCopyAndDeleteGetThemInTheirEnvironment()
    {
        var seen = Path.Join(_dir, "seen.txt");
        var take = Script("take.sh", $"echo \"$ECOMDR_SNAPSHOT_NAME|$ECOMDR_DATADIR|$ECOMDR_LABEL_ENVIRONMENT|$ECOMDR_LABEL_GIT_TAG|$1\" >> '{seen}'\necho snap-0001\necho\necho '  snap-0002  '");
        var copy = Script("copy.sh", $"echo \"copy $ECOMDR_SNAPSHOT_IDS to $ECOMDR_REGION\" >> '{seen}'\nfor id in $ECOMDR_SNAPSHOT_IDS; do echo \"$id-copy\"; done");
        var delete = Script("delete.sh", $"echo \"delete $ECOMDR_SNAPSHOT_IDS in $ECOMDR_REGION\" >> '{seen}'");
        var provider = new CommandSnapshotProvider(new CommandProviderOptions([take, "an argument"], [delete], [copy], Region: "eu-west-1", CopyRegion: "eu-central-1", Encrypted: true));

        var taken = await provider.TakeAsync(Request(), CancellationToken.None);
        Assert.Equal(new[] { "snap-0001", "snap-0002" }, taken.Ids);
        Assert.Equal(("command", "eu-west-1", true), (taken.Provider, taken.Region, taken.Encrypted));
        var copied = await provider.CopyAsync(taken, CancellationToken.None);
        Assert.Equal(new[] { "snap-0001-copy", "snap-0002-copy" }, copied!.Ids);
        Assert.Equal("eu-central-1", copied.Region);
        await provider.DeleteAsync(taken, CancellationToken.None);

        Assert.Equal(
            new[]
            {
                "mysql-snapshot-20261207T000000Z|/var/lib/mysql|prod|v1.2.3|an argument",
                "copy snap-0001 snap-0002 to eu-central-1",
                "delete snap-0001 snap-0002 in eu-west-1",
            },
            await File.ReadAllLinesAsync(seen));
        Assert.Null(await new CommandSnapshotProvider(new CommandProviderOptions([take], [delete])).CopyAsync(taken, CancellationToken.None));
    }

    [Fact]
    public async Task AFailingCommandIsAClearErrorWithItsStderrMasked()
    {
        var fail = Script("fail.sh", "echo 'snap-half'\necho \"denied for key AKIAABCDEFGHIJKLMNOP with password=hunter2-long and s3cr3t-value\" >&2\nexit 3");
        var provider = new CommandSnapshotProvider(new CommandProviderOptions([fail], [fail], Secrets: ["s3cr3t-value"]));
        var ex = await Assert.ThrowsAsync<EcomDrException>(() => provider.TakeAsync(Request(), CancellationToken.None));
        Assert.Equal(ErrorIds.SnapshotProviderFailed, ex.ErrorId);
        Assert.Contains("exited with 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("denied for key *** with password=*** and ***", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("AKIA", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", ex.Message, StringComparison.Ordinal);

        var silent = Script("silent.sh", "echo 'no snapshot taken: volume busy' >&2");
        var none = await Assert.ThrowsAsync<EcomDrException>(() => new CommandSnapshotProvider(new CommandProviderOptions([silent], [silent])).TakeAsync(Request(), CancellationToken.None));
        Assert.Equal(ErrorIds.SnapshotProviderFailed, none.ErrorId);
        Assert.Contains("printed no snapshot id on stdout. Its stderr: no snapshot taken: volume busy", none.Message, StringComparison.Ordinal);

        var missing = await Assert.ThrowsAsync<EcomDrException>(() =>
            new CommandSnapshotProvider(new CommandProviderOptions([Path.Join(_dir, "no-such-command")], [fail])).TakeAsync(Request(), CancellationToken.None));
        Assert.Equal(ErrorIds.SnapshotProviderFailed, missing.ErrorId);
        Assert.Contains("could not be started", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACancelledCommandIsKilledWithItsChildren()
    {
        var pids = Path.Join(_dir, "pids.txt");
        var hang = Script("hang.sh", $"sleep 300 &\necho \"$$ $!\" > '{pids}.tmp'\nmv '{pids}.tmp' '{pids}'\nwait");
        using var cancel = new CancellationTokenSource();
        var taking = new CommandSnapshotProvider(new CommandProviderOptions([hang], [hang])).TakeAsync(Request(), cancel.Token);

        // Cancel once the script and its child are running (a state, not a time).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(pids) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        var running = (await File.ReadAllTextAsync(pids)).Split(' ', StringSplitOptions.TrimEntries).Select(int.Parse).ToList();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => taking);
        foreach (var pid in running)
        {
            while (Alive(pid) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            Assert.False(Alive(pid), $"process {pid} still runs");
        }
    }

    [Fact]
    public async Task AChildLeftRunningWithTheOutputOpenDoesNotHoldTheProviderForever()
    {
        // The command prints its id and exits; a background child keeps stdout open for 300 s.
        var pid = Path.Join(_dir, "daemon.pid");
        var daemon = Script("daemon.sh", $"echo snap-0003\nsleep 300 &\necho $! > '{pid}'\nexit 0");
        try
        {
            var taken = await new CommandSnapshotProvider(new CommandProviderOptions([daemon], [daemon])).TakeAsync(Request(), CancellationToken.None);
            Assert.Equal(new[] { "snap-0003" }, taken.Ids);
        }
        finally
        {
            System.Diagnostics.Process.GetProcessById(int.Parse(await File.ReadAllTextAsync(pid), System.Globalization.CultureInfo.InvariantCulture)).Kill();
        }
    }

    // A killed child stays a zombie until its parent is reaped: "gone" is no process, or a zombie.
    private static bool Alive(int pid) =>
        File.Exists($"/proc/{pid}/stat") && File.ReadAllText($"/proc/{pid}/stat").Split(") ", 2) is [_, var rest] && rest[0] != 'Z';

    [Theory]
    [InlineData("token: hvs.CAESIJabcdefghijklmnopqrstuvwxyz012345", "token: ***")]
    [InlineData("ghp_abcdefghijklmnopqrstuvwxyz0123 and xoxb-1234567890-abcdef", "*** and ***")]
    [InlineData("DB_PASSWORD=p4ss SECRET=x", "DB_PASSWORD=*** SECRET=***")]
    [InlineData("nothing to hide here", "nothing to hide here")]
    public void MaskHidesKnownSecretsAndTokenShapes(string text, string masked) =>
        Assert.Equal(masked, ProviderCommand.Mask(text, ["unused-secret"]));
}
