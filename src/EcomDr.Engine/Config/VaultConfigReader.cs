namespace EcomDr.Engine.Config;

/// <summary>Reads an environment's <c>vault</c> section (docs/configuration.md, "vault").</summary>
internal static class VaultConfigReader
{
    private static readonly string[] ServerFields = ["address", "namespace", "caFile", "tlsVerify", "auth"];

    public static VaultConfig Read(JsonFields vault, string baseDirectory)
    {
        vault.AllowOnly([.. ServerFields, "mounts", "secondary"]);
        var mounts = vault.ObjectArray("mounts").Select(m =>
        {
            m.AllowOnly("mount", "prefixes");
            var mount = m.String("mount").Trim('/');
            if (mount.Length == 0)
            {
                throw m.Invalid(m.Child("mount"), "expected a mount path such as secret");
            }

            return new VaultMountConfig(mount, m.StringArray("prefixes").Select(p => p.Trim('/')).ToList());
        }).ToList();
        var duplicate = mounts.GroupBy(m => m.Mount, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw vault.Invalid(vault.Child("mounts"), $"mount '{duplicate.Key}' is named twice; list its prefixes once");
        }

        var secondary = vault.OptionalObject("secondary") is { } s ? ReadServer(s, baseDirectory, ServerFields) : null;
        var server = ReadServer(vault, baseDirectory, null);
        if (secondary is not null && secondary.Address == server.Address && secondary.Namespace == server.Namespace)
        {
            throw vault.Invalid(vault.Child("secondary.address"), "the secondary vault is the exported one; name another server or namespace");
        }

        return new VaultConfig(server, mounts, secondary);
    }

    /// <summary>A server given on its own (a Transit key's own Vault): address, namespace, caFile, tlsVerify, auth.</summary>
    public static VaultServerConfig ReadServer(JsonFields server, string baseDirectory) => ReadServer(server, baseDirectory, ServerFields);

    private static VaultServerConfig ReadServer(JsonFields server, string baseDirectory, string[]? allowOnly)
    {
        if (allowOnly is not null)
        {
            server.AllowOnly(allowOnly);
        }

        var text = server.String("address");
        if (!Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
        {
            throw server.Invalid(server.Child("address"), "expected an absolute http(s) URL such as https://vault.internal:8200");
        }

        var caFile = server.OptionalString("caFile") is { } ca ? ConfigLoader.ResolvePath(ca, baseDirectory) : null;
        if (caFile is not null && address.Scheme != "https")
        {
            throw server.Invalid(server.Child("caFile"), "a CA file is for https addresses");
        }

        var auth = server.OptionalObject("auth") is { } a ? ReadAuth(a, baseDirectory) : VaultAuthConfig.Default;
        return new VaultServerConfig(address, server.OptionalString("namespace"), caFile, server.Bool("tlsVerify", ConfigDefaults.VaultTlsVerify), auth);
    }

    private static VaultAuthConfig ReadAuth(JsonFields auth, string baseDirectory)
    {
        var method = auth.Enum("method", VaultAuthMethod.Token, ("token", VaultAuthMethod.Token), ("tokenFile", VaultAuthMethod.TokenFile), ("appRole", VaultAuthMethod.AppRole));
        switch (method)
        {
            case VaultAuthMethod.Token:
                auth.AllowOnly("method", "tokenEnv");
                return VaultAuthConfig.Default with { TokenEnvironmentVariable = auth.OptionalString("tokenEnv") ?? ConfigDefaults.VaultTokenEnv };
            case VaultAuthMethod.TokenFile:
                auth.AllowOnly("method", "path");
                return VaultAuthConfig.Default with { Method = method, TokenFile = ConfigLoader.ResolvePath(auth.String("path"), baseDirectory) };
            default:
                auth.AllowOnly("method", "mount", "roleId", "roleIdEnv", "secretIdEnv", "secretIdAutomationVariable");
                if (auth.Has("roleId") == auth.Has("roleIdEnv"))
                {
                    throw auth.Invalid(auth.Path, "name exactly one of roleId or roleIdEnv");
                }

                if (auth.Has("secretIdEnv") == auth.Has("secretIdAutomationVariable"))
                {
                    throw auth.Invalid(auth.Path, "name exactly one of secretIdEnv or secretIdAutomationVariable (the secret id is referenced, never written here)");
                }

                return new VaultAuthConfig(method, ConfigDefaults.VaultTokenEnv, null, auth.OptionalString("mount")?.Trim('/') ?? ConfigDefaults.VaultAppRoleMount,
                    auth.OptionalString("roleId"), auth.OptionalString("roleIdEnv"), auth.OptionalString("secretIdEnv"), auth.OptionalString("secretIdAutomationVariable"));
        }
    }
}
