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
    CommandProviderOptions? Command,
    AwsEbsProviderOptions? AwsEbs = null)
{
    /// <summary>The engine's provider for this section.</summary>
    public ISnapshotProvider CreateProvider() => Provider switch
    {
        SnapshotProviderType.Directory => new DirectorySnapshotProvider(Directory!),
        SnapshotProviderType.Command => new CommandSnapshotProvider(Command!),
        _ => new AwsEbsSnapshotProvider(AwsEbs!),
    };
}

internal static class VolumeSnapshotConfigReader
{
    public static VolumeSnapshotConfig Read(JsonFields section, Func<string, string> resolvePath)
    {
        section.AllowOnly("provider", "maxFreezeSeconds", "dataDirectory", "directory", "command", "awsEbs");
        var provider = section.Enum("provider", SnapshotProviderType.Directory,
            ("directory", SnapshotProviderType.Directory), ("command", SnapshotProviderType.Command), ("aws-ebs", SnapshotProviderType.AwsEbs));
        if (!section.Has("provider"))
        {
            throw section.Invalid(section.Child("provider"), "a provider is required: directory, command or aws-ebs");
        }

        var name = provider switch { SnapshotProviderType.Directory => "directory", SnapshotProviderType.Command => "command", _ => "awsEbs" };
        foreach (var other in new[] { "directory", "command", "awsEbs" }.Where(o => o != name && section.Has(o)))
        {
            throw section.Invalid(section.Child(other), $"the provider is '{section.String("provider")}': a '{other}' block is for the {(other == "awsEbs" ? "aws-ebs" : other)} provider");
        }

        DirectoryProviderOptions? directory = null;
        CommandProviderOptions? command = null;
        AwsEbsProviderOptions? awsEbs = null;
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
            awsEbs = ReadAwsEbs(section.Object("awsEbs"));
        }

        return new VolumeSnapshotConfig(provider, section.Int("maxFreezeSeconds", 1, 3600, ConfigDefaults.SnapshotMaxFreezeSeconds),
            section.OptionalString("dataDirectory"), directory, command, awsEbs);
    }

    private static AwsEbsProviderOptions ReadAwsEbs(JsonFields e)
    {
        e.AllowOnly("region", "volumeId", "instanceId", "copyRegion", "copyKmsKeyId", "encrypted", "endpoint", "accessKeyEnv", "secretKeyEnv", "completionTimeoutMinutes", "tags");
        var volume = e.OptionalString("volumeId");
        var instance = e.OptionalString("instanceId");
        if ((volume is null) == (instance is null))
        {
            throw e.Invalid(e.Path, "give exactly one of volumeId (one volume holds the data directory) and instanceId (every data volume of the instance, at one instant)");
        }

        if (e.Has("accessKeyEnv") != e.Has("secretKeyEnv"))
        {
            throw e.Invalid(e.Path, "accessKeyEnv and secretKeyEnv go together (or neither: the SDK's default credentials)");
        }

        var endpoint = e.OptionalString("endpoint");
        if (endpoint is not null && !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
        {
            throw e.Invalid(e.Child("endpoint"), "expected an absolute URL");
        }

        if (e.Has("copyKmsKeyId") && !e.Has("copyRegion"))
        {
            throw e.Invalid(e.Child("copyKmsKeyId"), "a KMS key for the copy needs the region it copies to (copyRegion)");
        }

        var tags = e.StringMap("tags");
        return new AwsEbsProviderOptions(e.String("region"), volume, instance, e.OptionalString("copyRegion"), e.OptionalString("copyKmsKeyId"),
            e.Bool("encrypted", true), endpoint, e.OptionalString("accessKeyEnv"), e.OptionalString("secretKeyEnv"), tags)
        {
            CompletionTimeout = TimeSpan.FromMinutes(e.Int("completionTimeoutMinutes", 1, 1440, ConfigDefaults.SnapshotCompletionTimeoutMinutes)),
        };
    }
}
