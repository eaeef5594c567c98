namespace EcomDr.Engine.Config;

/// <summary>A person who may approve restore plans: their login name and the public half of their approver key (PEM).</summary>
public sealed record ApproverConfig(string Name, string PublicKeyPem);

/// <summary>
/// The restore section: how many approvals a restore into a protected target needs (0: none), who may
/// give them, which targets are protected (host, or host:port), and how long an approval holds.
/// </summary>
public sealed record RestoreConfig(int RequiredApprovals, IReadOnlyList<ApproverConfig> Approvers, IReadOnlyList<string> ProtectedTargets, int ApprovalHours)
{
    /// <summary>Whether a restore into this server needs an approved plan.</summary>
    public bool Protects(string server, int port) =>
        RequiredApprovals > 0 && ProtectedTargets.Any(t =>
            t.Equals(server, StringComparison.OrdinalIgnoreCase) || t.Equals($"{server}:{port}", StringComparison.OrdinalIgnoreCase) || t == "*");
}

internal static class RestoreConfigReader
{
    public static RestoreConfig Read(JsonFields restore, Func<string, string> resolvePath)
    {
        restore.AllowOnly("requiredApprovals", "approvers", "protectedTargets", "approvalHours");
        var approvers = new List<ApproverConfig>();
        foreach (var approver in restore.ObjectArray("approvers"))
        {
            approver.AllowOnly("name", "publicKey");
            var name = approver.String("name");
            var key = approver.String("publicKey");
            string pem;
            if (key.Contains("-----BEGIN PUBLIC KEY-----", StringComparison.Ordinal))
            {
                pem = key;
            }
            else
            {
                var path = resolvePath(key);
                if (!File.Exists(path))
                {
                    throw approver.Invalid(approver.Child("publicKey"), $"{path} does not exist (the approver's .pub.pem, or the PEM text itself)");
                }

                pem = File.ReadAllText(path);
            }

            try
            {
                Pipeline.Crypto.PublicSigningKey.Read(pem, name).Key.Dispose();
            }
            catch (Exception ex) when (ex is Errors.EcomDrException or System.Security.Cryptography.CryptographicException or ArgumentException)
            {
                throw approver.Invalid(approver.Child("publicKey"), "is not a PEM public key (New-DrKey -Approver writes one, <key>.pub.pem)");
            }

            if (approvers.Any(a => a.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
            {
                throw approver.Invalid(approver.Child("name"), $"'{name}' is listed twice");
            }

            approvers.Add(new ApproverConfig(name, pem));
        }

        var required = restore.Int("requiredApprovals", 0, 5, 0);
        if (required > approvers.Count)
        {
            throw restore.Invalid(restore.Child("requiredApprovals"), $"{required} approval(s) required, and only {approvers.Count} approver(s) listed");
        }

        var targets = restore.StringArray("protectedTargets");
        if (required > 0 && targets.Count == 0)
        {
            throw restore.Invalid(restore.Child("protectedTargets"), "approvals are required but no target is protected: list the production servers (host or host:port)");
        }

        return new RestoreConfig(required, approvers, targets, restore.Int("approvalHours", 1, 24 * 30, ConfigDefaults.ApprovalHours));
    }
}
