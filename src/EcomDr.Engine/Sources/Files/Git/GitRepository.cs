using System.Text;

namespace EcomDr.Engine.Sources.Files.Git;

/// <summary>Where a work tree's repository is: its git directory (HEAD, index) and the common one (objects, refs).</summary>
internal sealed class GitRepository
{
    private GitRepository(string workTree, string gitDirectory, string commonDirectory)
    {
        WorkTree = workTree;
        GitDirectory = gitDirectory;
        CommonDirectory = commonDirectory;
        Objects = new GitObjects(Path.Join(commonDirectory, "objects"));
    }

    public string WorkTree { get; }

    public string GitDirectory { get; }

    public string CommonDirectory { get; }

    public GitObjects Objects { get; }

    /// <summary>The repository whose work tree holds <paramref name="path"/>, or null (not in a work tree, a bare or SHA-256 repository).</summary>
    public static GitRepository? Find(string path)
    {
        var folder = Directory.Exists(path) ? Path.GetFullPath(path) : Path.GetDirectoryName(Path.GetFullPath(path));
        for (; folder is not null; folder = Path.GetDirectoryName(folder))
        {
            var dotGit = Path.Join(folder, ".git");
            string? gitDirectory = null;
            if (Directory.Exists(dotGit))
            {
                gitDirectory = dotGit;
            }
            else if (File.Exists(dotGit) && File.ReadAllText(dotGit).Trim() is var text && text.StartsWith("gitdir:", StringComparison.Ordinal))
            {
                // A linked work tree or a submodule: ".git" names the git directory.
                gitDirectory = Path.GetFullPath(text["gitdir:".Length..].Trim(), folder);
            }

            if (gitDirectory is null || !File.Exists(Path.Join(gitDirectory, "HEAD")))
            {
                continue;
            }

            var common = File.Exists(Path.Join(gitDirectory, "commondir"))
                ? Path.GetFullPath(File.ReadAllText(Path.Join(gitDirectory, "commondir")).Trim(), gitDirectory)
                : gitDirectory;
            var config = Path.Join(common, "config");
            if (File.Exists(config) && File.ReadAllText(config).Contains("objectformat = sha256", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            return new GitRepository(folder, gitDirectory, common);
        }

        return null;
    }

    /// <summary>HEAD: the branch it names (null when detached) and the commit it points at (null in a repository without commits).</summary>
    public (string? Branch, string? Commit) Head()
    {
        var head = File.ReadAllText(Path.Join(GitDirectory, "HEAD")).Trim();
        if (!head.StartsWith("ref:", StringComparison.Ordinal))
        {
            return (null, head.ToLowerInvariant());
        }

        var name = head[4..].Trim();
        return (name.StartsWith("refs/heads/", StringComparison.Ordinal) ? name["refs/heads/".Length..] : name, Resolve(name));
    }

    /// <summary>A ref's object name: the loose ref file, else packed-refs.</summary>
    public string? Resolve(string name)
    {
        for (var hops = 0; hops < 10; hops++)
        {
            var loose = Path.Join(name.StartsWith("refs/", StringComparison.Ordinal) ? CommonDirectory : GitDirectory, name);
            if (File.Exists(loose))
            {
                var value = File.ReadAllText(loose).Trim();
                if (value.StartsWith("ref:", StringComparison.Ordinal))
                {
                    name = value[4..].Trim();
                    continue;
                }

                return value.ToLowerInvariant();
            }

            return PackedRefs().Where(r => r.Name == name).Select(r => r.Sha).FirstOrDefault();
        }

        return null;
    }

    /// <summary>Every tag, with the commit it names (annotated tags peeled).</summary>
    public IReadOnlyList<(string Name, string Commit)> Tags()
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, sha, peeled) in PackedRefs().Where(r => r.Name.StartsWith("refs/tags/", StringComparison.Ordinal)))
        {
            tags[name["refs/tags/".Length..]] = peeled ?? sha ?? "";
        }

        var loose = Path.Join(CommonDirectory, "refs", "tags");
        if (Directory.Exists(loose))
        {
            foreach (var file in Directory.EnumerateFiles(loose, "*", SearchOption.AllDirectories))
            {
                tags[Path.GetRelativePath(loose, file).Replace('\\', '/')] = File.ReadAllText(file).Trim().ToLowerInvariant();
            }
        }

        var result = new List<(string, string)>();
        foreach (var (name, sha) in tags)
        {
            if (Peel(sha) is { } commit)
            {
                result.Add((name, commit));
            }
        }

        return result;
    }

    /// <summary>A commit's parents.</summary>
    public IReadOnlyList<string> Parents(string commit) =>
        Objects.Read(commit) is { Type: "commit" } o ? Lines(o.Content).TakeWhile(l => l.Length > 0).Where(l => l.StartsWith("parent ", StringComparison.Ordinal)).Select(l => l[7..]).ToList() : [];

    /// <summary>A commit's root tree.</summary>
    public string? TreeOf(string commit) =>
        Objects.Read(commit) is { Type: "commit" } o ? Lines(o.Content).FirstOrDefault(l => l.StartsWith("tree ", StringComparison.Ordinal))?[5..] : null;

    private string? Peel(string sha)
    {
        for (var hops = 0; hops < 10; hops++)
        {
            var o = Objects.Read(sha);
            if (o is null || o.Type == "commit")
            {
                return o is null ? null : sha;
            }

            if (o.Type != "tag")
            {
                return null; // a tag of a tree or a blob describes no commit
            }

            sha = Lines(o.Content).First(l => l.StartsWith("object ", StringComparison.Ordinal))[7..];
        }

        return null;
    }

    private IEnumerable<(string Name, string Sha, string? Peeled)> PackedRefs()
    {
        var path = Path.Join(CommonDirectory, "packed-refs");
        if (!File.Exists(path))
        {
            yield break;
        }

        (string Name, string Sha)? last = null;
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith('^') && last is { } tagged)
            {
                yield return (tagged.Name, tagged.Sha, line[1..].Trim().ToLowerInvariant());
                last = null;
                continue;
            }

            if (last is { } plain)
            {
                yield return (plain.Name, plain.Sha, null);
                last = null;
            }

            if (line.Length > 41 && !line.StartsWith('#'))
            {
                last = (line[41..].Trim(), line[..40].ToLowerInvariant());
            }
        }

        if (last is { } final)
        {
            yield return (final.Name, final.Sha, null);
        }
    }

    private static IEnumerable<string> Lines(byte[] content) => Encoding.UTF8.GetString(content).Split('\n');
}
