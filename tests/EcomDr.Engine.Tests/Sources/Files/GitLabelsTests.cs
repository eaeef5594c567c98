using System.Diagnostics;
using EcomDr.Engine.Sources.Files;
using EcomDr.Engine.Sources.Files.Git;
using EcomDr.Engine.Tests.Pipeline.Repository;

namespace EcomDr.Engine.Tests.Sources.Files;

/// <summary>
/// The git labels of a file backup, read without a git binary, against work trees the real git makes
/// (git is the reference: rev-parse, describe --tags --abbrev=7, status): loose and packed objects and
/// refs (deltas, peeled annotated tags), lightweight tags, a merge, a detached HEAD, a linked work tree,
/// index version 4, and every kind of dirty and clean a work tree can be in.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class GitLabelsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ecomdr-git-").FullName;

    private string Repo => Path.Join(_dir, "repo");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Git(params string[] args) => GitIn(Repo, args);

    private static string GitIn(string folder, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-c", "user.name=EcomDr Test", "-c", "user.email=test@ecomdr.invalid", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false" }.Concat(args))
        {
            start.ArgumentList.Add(a);
        }

        using var git = Process.Start(start)!;
        var output = git.StandardOutput.ReadToEnd();
        var error = git.StandardError.ReadToEnd();
        git.WaitForExit();
        Assert.True(git.ExitCode == 0 || args[0] is "describe" or "diff-index", $"git {string.Join(' ', args)}: {error}");
        return git.ExitCode == 0 ? output.Trim() : "";
    }

    private void Commit(string file, string content, string message)
    {
        var path = Path.Join(Repo, file);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        Git("add", "-A");
        Git("commit", "-q", "-m", message);
    }

    private void MakeHistory()
    {
        Directory.CreateDirectory(Repo);
        Git("init", "-q");
        var big = string.Join("\n", Enumerable.Range(0, 2000).Select(i => $"server_{i} {{ listen {8000 + i}; }}"));
        Commit("nginx/nginx.conf", big, "nginx");
        Commit("compose/docker-compose.yml", "services:\n  api:\n    image: shop-api:1.0\n", "compose");
        Git("tag", "-a", "v1.0", "-m", "release 1.0");
        Commit("nginx/nginx.conf", big + "\nserver_extra {}\n", "more nginx"); // a delta of the first version once packed
        Git("tag", "v1.1-rc"); // lightweight
        Commit("compose/docker-compose.yml", "services:\n  api:\n    image: shop-api:1.1\n", "api 1.1");
        Git("checkout", "-q", "-b", "feature");
        Commit("docs/adr-001.md", "# ADR 1\n", "adr");
        Git("tag", "-a", "v2.0-feature", "-m", "feature release");
        Git("checkout", "-q", "main");
        Commit("deploy/run.sh", "#!/bin/sh\n", "run");
        Git("merge", "-q", "--no-ff", "-m", "merge feature", "feature");
        Commit("deploy/run.sh", "#!/bin/sh\nexec compose up\n", "after merge");
    }

    /// <summary>What git itself says: commit, branch, describe, and whether a tracked file differs from HEAD.</summary>
    private (string Commit, string? Branch, string? Describe, bool Dirty) Expected(string? folder = null)
    {
        folder ??= Repo;
        var branch = GitIn(folder, "rev-parse", "--abbrev-ref", "HEAD");
        return (GitIn(folder, "rev-parse", "HEAD"), branch == "HEAD" ? null : branch, GitIn(folder, "describe", "--tags", "--abbrev=7") is { Length: > 0 } d ? d : null,
            GitIn(folder, "status", "--porcelain", "--untracked-files=no").Length > 0);
    }

    private static (string? Commit, string? Branch, string? Describe, bool Dirty) Actual(string path)
    {
        var state = GitLabels.Read(path);
        Assert.NotNull(state);
        return (state!.Commit, state.Branch, state.Describe, state.Dirty);
    }

    [Fact]
    public void CommitBranchAndDescribeEqualGitsOwnLooseAndPacked()
    {
        MakeHistory();
        Assert.Equal(Expected(), Actual(Path.Join(Repo, "nginx")));
        Assert.Matches("^v2.0-feature-3-g[0-9a-f]{7}$", Actual(Repo).Describe); // run, the merge, after merge

        Git("gc", "-q", "--aggressive"); // everything into a pack, with deltas; refs into packed-refs
        Assert.Empty(Directory.GetDirectories(Path.Join(Repo, ".git/objects"), "??"));
        Assert.True(File.Exists(Path.Join(Repo, ".git/packed-refs")));
        Assert.Equal(Expected(), Actual(Repo));

        foreach (var (target, label) in new[] { ("v1.0", "v1.0"), ("v1.0~0", "v1.0"), ("HEAD~1", null), ("main~3", null) })
        {
            Git("checkout", "-q", "--detach", target);
            var actual = Actual(Repo);
            Assert.Equal(Expected(), actual);
            Assert.Null(actual.Branch);
            if (label is not null)
            {
                Assert.Equal(label, actual.Describe);
            }
        }
    }

    [Fact]
    public void DirtyIsWhatGitStatusSaysOfTrackedFiles()
    {
        MakeHistory();
        var conf = Path.Join(Repo, "nginx/nginx.conf");
        var original = File.ReadAllText(conf);
        Assert.False(Actual(Repo).Dirty);

        File.WriteAllText(Path.Join(Repo, "untracked.txt"), "not tracked");
        Assert.False(Actual(Repo).Dirty); // untracked files do not count

        File.WriteAllText(conf, original + "changed");
        Assert.Equal((true, true), (Actual(Repo).Dirty, Expected().Dirty));
        File.WriteAllText(conf, original); // the same bytes again, with a new time
        Assert.Equal((false, false), (Actual(Repo).Dirty, Expected().Dirty));

        File.SetUnixFileMode(Path.Join(Repo, "deploy/run.sh"), File.GetUnixFileMode(Path.Join(Repo, "deploy/run.sh")) | UnixFileMode.UserExecute);
        Assert.Equal((true, true), (Actual(Repo).Dirty, Expected().Dirty));
        Git("checkout", "--", "deploy/run.sh");
        File.SetUnixFileMode(Path.Join(Repo, "deploy/run.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Assert.Equal((false, false), (Actual(Repo).Dirty, Expected().Dirty));

        File.Delete(Path.Join(Repo, "docs/adr-001.md"));
        Assert.Equal((true, true), (Actual(Repo).Dirty, Expected().Dirty));
        Git("checkout", "--", "docs/adr-001.md");

        File.WriteAllText(Path.Join(Repo, "compose/new.yml"), "staged: true\n");
        Git("add", "compose/new.yml"); // staged, not committed
        Assert.Equal((true, true), (Actual(Repo).Dirty, Expected().Dirty));
        Git("reset", "-q", "compose/new.yml");
        Assert.False(Actual(Repo).Dirty);

        Git("update-index", "--index-version", "4");
        Assert.False(Actual(Repo).Dirty);
        File.WriteAllText(conf, original + "v4");
        Assert.True(Actual(Repo).Dirty);
    }

    [Fact]
    public void ALinkedWorkTreeAndAFolderOutsideGitAreReadToo()
    {
        MakeHistory();
        var linked = Path.Join(_dir, "linked");
        Git("worktree", "add", "-q", "-b", "hotfix", linked, "v1.0");
        Assert.Equal(Expected(linked), Actual(Path.Join(linked, "compose")));
        Assert.Equal(("hotfix", "v1.0"), (Actual(linked).Branch, Actual(linked).Describe));

        var outside = Directory.CreateDirectory(Path.Join(_dir, "plain")).FullName;
        Assert.Null(GitLabels.Read(outside));
    }

    [Fact]
    public async Task AFileBackupOfAFolderInAWorkTreeRecordsItsGitLabels()
    {
        MakeHistory();
        File.WriteAllText(Path.Join(Repo, "nginx/nginx.conf"), "edited\n");
        using var repo = new RepoFixture();
        var result = await FileBackup.RunAsync(repo.Context, new FileBackupRequest("infra", [Path.Join(Repo, "nginx")], "infra"), null, CancellationToken.None);
        var labels = result.Backup!.Manifest!.Labels;
        var expected = Expected();
        Assert.Equal((expected.Commit, "main", expected.Describe, "true", "infra"),
            (labels["gitCommit"], labels["gitBranch"], labels["gitTag"], labels["gitDirty"], labels["fileSet"]));
        var git = (System.Text.Json.Nodes.JsonArray)result.Backup.Manifest.Source["git"]!;
        Assert.Equal(Repo, (string?)git[0]!["workTree"]);
    }
}
