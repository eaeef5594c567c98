using EcomDr.Engine.Sources.MySql.Snapshots;

namespace EcomDr.Engine.Config;

/// <summary>Which snapshot provider takes the MySQL node's volume snapshots (mysql.volumeSnapshot in the configuration).</summary>
public enum SnapshotProviderType
{
    Directory,
    Command,
    AwsEbs,
}

/// <summary>
/// The mysql.volumeSnapshot section: the provider and its own block, the longest freeze, and the data
/// directory as the provider sees it (default: the server's datadir). See docs/configuration.md.
/// </summary>
public sealed record VolumeSnapshotConfig(
    SnapshotProviderType Provider,
    int MaxFreezeSeconds,
    string? DataDirectory,
    DirectoryProviderOptions? Directory,
    CommandProviderOptions? Command)
{
    /// <summary>The engine's provider for this section.</summary>
    public ISnapshotProvider CreateProvider() => Provider switch
    {
        SnapshotProviderType.Directory => new DirectorySnapshotProvider(Directory!),
        SnapshotProviderType.Command => new CommandSnapshotProvider(Command!),
        _ => throw new Errors.EcomDrException(Errors.ErrorIds.ConfigInvalid, Errors.FailureKind.NotImplemented,
            $"The {Provider} snapshot provider is not available in this version.", Provider.ToString()),
    };
}

internal static class VolumeSnapshotConfigReader
{
    public static VolumeSnapshotConfig Read(JsonFields section, Func<string, string> resolvePath)
    {
        section.AllowOnly("provider", "maxFreezeSeconds", "dataDirectory", "directory", "command");
        var provider = section.Enum("provider", SnapshotProviderType.Directory,
            ("directory", SnapshotProviderType.Directory), ("command", SnapshotProviderType.Command), ("aws-ebs", SnapshotProviderType.AwsEbs));
        if (!section.Has("provider"))
        {
            throw section.Invalid(section.Child("provider"), "a provider is required: directory, command or aws-ebs");
        }

        var name = provider switch { SnapshotProviderType.Directory => "directory", SnapshotProviderType.Command => "command", _ => "awsEbs" };
        foreach (var other in new[] { "directory", "command" }.Where(o => o != name && section.Has(o)))
        {
            throw section.Invalid(section.Child(other), $"the provider is '{section.String("provider")}': a '{other}' block is for the {other} provider");
        }

        DirectoryProviderOptions? directory = null;
        CommandProviderOptions? command = null;
        if (provider == SnapshotProviderType.Directory)
        {
            var d = section.Object("directory");
            d.AllowOnly("path", "offsitePath");
            directory = new DirectoryProviderOptions(resolvePath(d.String("path")), d.OptionalString("offsitePath") is { } o ? resolvePath(o) : null);
        }
        else if (provider == SnapshotProviderType.Command)
        {
            var c = section.Object("command");
            c.AllowOnly("take", "delete", "copy", "region", "copyRegion", "encrypted");
            var take = c.StringArray("take");
            var delete = c.StringArray("delete");
            foreach (var (field, value) in new[] { ("take", take), ("delete", delete) })
            {
                if (value.Count == 0)
                {
                    throw c.Invalid(c.Child(field), "the command and its arguments are required, as an array: [\"/usr/local/bin/snap\", \"take\"]");
                }
            }

            var copy = c.StringArray("copy");
            if (copy.Count > 0 && c.OptionalString("copyRegion") is null)
            {
                throw c.Invalid(c.Child("copyRegion"), "a copy command needs the region it copies to");
            }

            command = new CommandProviderOptions(take, delete, copy.Count > 0 ? copy : null, c.OptionalString("region"), c.OptionalString("copyRegion"), c.Bool("encrypted", false));
        }
        else
        {
            throw section.Invalid(section.Child("provider"), "aws-ebs is not available in this version; use command with the AWS CLI (docs/snapshots.md)");
        }

        return new VolumeSnapshotConfig(provider, section.Int("maxFreezeSeconds", 1, 3600, ConfigDefaults.SnapshotMaxFreezeSeconds),
            section.OptionalString("dataDirectory"), directory, command);
    }
}
