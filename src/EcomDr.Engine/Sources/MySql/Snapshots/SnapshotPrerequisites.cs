using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Prerequisites;
using EcomDr.Engine.Sources.MySql.Shared;

namespace EcomDr.Engine.Sources.MySql.Snapshots;

/// <summary>
/// Test-DrPrerequisite's checks of the configured volume snapshot provider, before the weekly run
/// needs it: for MySQL the BACKUP_ADMIN grant (RELOAD is checked with the backups); for the directory
/// provider that the data directory is reachable from here and the snapshot folder writable; for the
/// command provider that each command exists and may be run; for aws-ebs that EC2 would allow the
/// snapshot (CreateSnapshot with DryRun, which takes nothing).
/// </summary>
public static class SnapshotPrerequisites
{
    public static async Task<IReadOnlyList<PrerequisiteResult>> RunAsync(MySqlEndpoint endpoint, VolumeSnapshotConfig config, CancellationToken ct)
    {
        var results = new List<PrerequisiteResult>();
        var where = endpoint.Display;
        string dataDirectory;
        await using (var c = await MySqlConnections.OpenAsync(endpoint, ct).ConfigureAwait(false))
        {
            var facts = await ServerFacts.ReadAsync(c, ct).ConfigureAwait(false);
            dataDirectory = config.DataDirectory ?? facts.Variable("datadir") ?? "";
            if (facts.Flavor == ServerFlavor.MySql)
            {
                var granted = facts.Grants.HasGlobal("BACKUP_ADMIN");
                results.Add(new PrerequisiteResult(where, "Snapshot.BackupAdmin", granted ? CheckStatus.Pass : CheckStatus.Fail, granted ? "BACKUP_ADMIN granted" : "BACKUP_ADMIN missing",
                    "BACKUP_ADMIN (LOCK INSTANCE FOR BACKUP)", $"GRANT BACKUP_ADMIN ON *.* TO {facts.CurrentUser};"));
            }
        }

        switch (config.Provider)
        {
            case SnapshotProviderType.Directory:
                results.Add(Reachable(where, dataDirectory));
                results.Add(Writable(where, config.Directory!.Path, "Snapshot.Folder"));
                if (config.Directory.OffsitePath is { } offsite)
                {
                    results.Add(Writable(where, offsite, "Snapshot.OffsiteFolder"));
                }

                break;
            case SnapshotProviderType.Command:
                foreach (var (step, command) in new[] { ("take", config.Command!.Take), ("delete", config.Command.Delete), ("copy", config.Command.Copy ?? []) }.Where(s => s.Item2.Count > 0))
                {
                    results.Add(Runnable(where, step, command[0]));
                }

                break;
            default:
                results.Add(await DryRunAsync(where, config.AwsEbs!, ct).ConfigureAwait(false));
                break;
        }

        return results;
    }

    private static PrerequisiteResult Reachable(string where, string dataDirectory) =>
        Directory.Exists(dataDirectory)
            ? new(where, "Snapshot.DataDirectory", CheckStatus.Pass, $"{dataDirectory} is reachable", "the data directory reachable from here", "")
            : new(where, "Snapshot.DataDirectory", CheckStatus.Fail, $"{dataDirectory} is not reachable from here", "the data directory reachable from here",
                "The directory provider copies the data directory: run on the database host, or give mysql.volumeSnapshot.dataDirectory as mounted here.");

    private static PrerequisiteResult Writable(string where, string folder, string check)
    {
        try
        {
            Directory.CreateDirectory(folder);
            var probe = Path.Join(folder, $".ecomdr-probe-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return new(where, check, CheckStatus.Pass, $"{folder} is writable", "a writable folder", "");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new(where, check, CheckStatus.Fail, $"{folder}: {ex.Message}", "a writable folder", $"Create {folder} and let this user write to it.");
        }
    }

    private static PrerequisiteResult Runnable(string where, string step, string executable)
    {
        var path = Path.IsPathRooted(executable) ? executable
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Where(d => d.Length > 0).Select(d => Path.Join(d, executable)).FirstOrDefault(File.Exists);
        var runnable = path is not null && File.Exists(path) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);
        return runnable
            ? new(where, $"Snapshot.Command.{step}", CheckStatus.Pass, $"{path} exists and is executable", "an executable command", "")
            : new(where, $"Snapshot.Command.{step}", CheckStatus.Fail, path is null ? $"{executable} is not found (PATH)" : $"{path} is not an executable file", "an executable command",
                $"Install the {step} command, or give its full path in mysql.volumeSnapshot.command.{step}, and make it executable.");
    }

    private static async Task<PrerequisiteResult> DryRunAsync(string where, AwsEbsProviderOptions options, CancellationToken ct)
    {
        try
        {
            using var provider = new AwsEbsSnapshotProvider(options);
            var allowed = await provider.DryRunAsync(ct).ConfigureAwait(false);
            return allowed
                ? new(where, "Snapshot.Ebs", CheckStatus.Pass, $"EC2 would allow the snapshot of {options.VolumeId ?? options.InstanceId} in {options.Region} (DryRun)", "ec2:CreateSnapshot(s) allowed", "")
                : new(where, "Snapshot.Ebs", CheckStatus.Fail, "EC2 answered the DryRun without DryRunOperation", "ec2:CreateSnapshot(s) allowed", "Check the endpoint and region.");
        }
        catch (EcomDrException ex)
        {
            return new(where, "Snapshot.Ebs", CheckStatus.Fail, ex.Message, "ec2:CreateSnapshot(s) allowed",
                "Allow ec2:CreateSnapshot (or ec2:CreateSnapshots), ec2:CreateTags, ec2:DescribeSnapshots, ec2:CopySnapshot and ec2:DeleteSnapshot to this identity (docs/snapshots.md).");
        }
    }
}
