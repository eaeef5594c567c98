using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Sources.MySql.Snapshots;

/// <summary>
/// The "command" provider's configuration: a take command, a matching delete command, an optional
/// copy-to-region command, each an executable and its arguments (no shell). Region and Encrypted are
/// what the admin states about where the snapshots live. Secrets are values to mask in any output.
/// </summary>
public sealed record CommandProviderOptions(
    IReadOnlyList<string> Take,
    IReadOnlyList<string> Delete,
    IReadOnlyList<string>? Copy = null,
    string? Region = null,
    string? CopyRegion = null,
    bool Encrypted = false,
    IReadOnlyCollection<string>? Secrets = null);

/// <summary>
/// The universal provider: LVM, ZFS, Ceph or any cloud CLI behind an admin's script. Each command gets
/// ECOMDR_SNAPSHOT_NAME, ECOMDR_DATADIR and ECOMDR_LABEL_&lt;NAME&gt; (take), or ECOMDR_SNAPSHOT_IDS
/// (ids separated by spaces) and ECOMDR_REGION (copy, delete). Take and copy print the snapshot ids
/// on stdout, one per line. A non-zero exit, or a take or copy that prints no id, is an error that
/// shows the command's stderr, masked.
/// </summary>
public sealed class CommandSnapshotProvider(CommandProviderOptions options) : ISnapshotProvider
{
    public string Name => "command";

    /// <summary>LVM, ZFS, Ceph and cloud volume snapshots are taken at one instant.</summary>
    public bool Atomic => true;

    public async Task<SnapshotTaken> TakeAsync(SnapshotRequest request, CancellationToken ct)
    {
        var environment = new Dictionary<string, string>
        {
            ["ECOMDR_SNAPSHOT_NAME"] = request.Name,
            ["ECOMDR_DATADIR"] = request.DataDirectory,
        };
        foreach (var (label, value) in request.Labels)
        {
            environment["ECOMDR_LABEL_" + new string(label.ToUpperInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray())] = value;
        }

        var ids = await RunAsync("take", options.Take, environment, expectIds: true, ct).ConfigureAwait(false);
        return new SnapshotTaken(Name, ids, options.Region, options.Encrypted);
    }

    public async Task<SnapshotTaken?> CopyAsync(SnapshotTaken taken, CancellationToken ct)
    {
        if (options.Copy is not { Count: > 0 } copy)
        {
            return null;
        }

        var ids = await RunAsync("copy", copy, Environment(taken, options.CopyRegion), expectIds: true, ct).ConfigureAwait(false);
        return new SnapshotTaken(Name, ids, options.CopyRegion, options.Encrypted);
    }

    public Task DeleteAsync(SnapshotTaken taken, CancellationToken ct) =>
        RunAsync("delete", options.Delete, Environment(taken, taken.Region), expectIds: false, ct);

    private static Dictionary<string, string> Environment(SnapshotTaken taken, string? region) => new()
    {
        ["ECOMDR_SNAPSHOT_IDS"] = string.Join(' ', taken.Ids),
        ["ECOMDR_REGION"] = region ?? "",
    };

    private async Task<IReadOnlyList<string>> RunAsync(string step, IReadOnlyList<string> command, Dictionary<string, string> environment, bool expectIds, CancellationToken ct)
    {
        if (command.Count == 0 || string.IsNullOrWhiteSpace(command[0]))
        {
            throw new EcomDrException(ErrorIds.ConfigInvalid, FailureKind.InvalidArgument, $"The command snapshot provider has no {step} command configured.", step);
        }

        var secrets = options.Secrets ?? Array.Empty<string>();
        ProviderCommandResult result;
        try
        {
            result = await ProviderCommand.RunAsync(command[0], command.Skip(1).ToList(), environment, secrets, ct).ConfigureAwait(false);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new EcomDrException(ErrorIds.SnapshotProviderFailed, FailureKind.InvalidOperation,
                $"The snapshot provider's {step} command '{command[0]}' could not be started: {ProviderCommand.Mask(ex.Message, secrets)}", step, ex);
        }

        var ids = result.StandardOutput.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        if (result.ExitCode != 0 || (expectIds && ids.Count == 0))
        {
            var why = result.ExitCode != 0 ? $"exited with {result.ExitCode}" : "printed no snapshot id on stdout";
            var stderr = result.StandardError.Trim();
            throw new EcomDrException(ErrorIds.SnapshotProviderFailed, FailureKind.InvalidOperation,
                $"The snapshot provider's {step} command '{command[0]}' {why}." + (stderr.Length > 0 ? $" Its stderr: {stderr}" : " It wrote nothing on stderr."), step);
        }

        return ids;
    }
}
