using System.Management.Automation;
using EcomDr.Common;
using EcomDr.Engine.Pipeline.Crypto;

namespace EcomDr.Commands;

/// <summary>Creates a local key file (data-key wrapping and manifest signing) or a break-glass RSA-4096 key pair.</summary>
[Cmdlet(VerbsCommon.New, "DrKey", SupportsShouldProcess = true, DefaultParameterSetName = LocalSet)]
[OutputType(typeof(KeyInfo))]
public sealed class NewDrKeyCommand : EcomDrCmdlet
{
    private const string LocalSet = "Local";
    private const string BreakGlassSet = "BreakGlass";
    private const string ApproverSet = "Approver";

    /// <summary>Where to write the key. Default: the first localFile key of the configuration or of the embedded defaults.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    [Parameter(ParameterSetName = LocalSet)]
    [ValidateNotNullOrEmpty]
    public string? Config { get; set; }

    [Parameter(ParameterSetName = LocalSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EcomDr.Completion.EnvironmentCompleter))]
    public string? Environment { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = BreakGlassSet)]
    public SwitchParameter BreakGlass { get; set; }

    /// <summary>A personal key for approving restore plans (Approve-DrRestorePlan); its .pub.pem goes into restore.approvers.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ApproverSet)]
    public SwitchParameter Approver { get; set; }

    /// <summary>With -Approver: the approver's login name (default: this user), which may not approve its own plans.</summary>
    [Parameter(ParameterSetName = ApproverSet)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    protected override void EndProcessing()
    {
        var path = GetUnresolvedProviderPathFromPSPath(Path ?? (Approver ? System.IO.Path.Join(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".ecomdr", "approver.key") : DefaultPath()));
        if (!ShouldProcess(path, BreakGlass ? "Create break-glass RSA-4096 key pair" : Approver ? "Create an approver key" : "Create local key file"))
        {
            return;
        }

        if (Approver)
        {
            using var approver = Run(() => Engine.Operations.Approvals.ApproverKey.Create(path, Name ?? System.Environment.UserName));
            WriteVerbose($"Wrote {approver.Path} (owner-only) for {approver.Name}; list {approver.PublicKeyPath} in restore.approvers.");
            WriteObject(new KeyInfo("Approver", approver.KeyId, approver.KeyId, approver.Path, approver.PublicKeyPath, approver.Created));
            return;
        }

        if (BreakGlass)
        {
            var (privatePath, publicPath, keyId) = Run(() => RsaBreakGlassKey.Create(path));
            WriteWarning($"Move {privatePath} offline (a safe, a hardware token) and keep only {publicPath} on servers: the private key opens every backup.");
            WriteObject(new KeyInfo("BreakGlass", keyId, null, privatePath, publicPath, DateTimeOffset.UtcNow));
            return;
        }

        using var key = Run(() => LocalKeyFile.Create(path));
        WriteVerbose($"Wrote {key.Path} (owner-only) and {key.PublicKeyPath}.");
        WriteObject(new KeyInfo("LocalFile", key.KeyId, key.SigningKeyId, key.Path, key.PublicKeyPath, key.Created));
    }

    private string DefaultPath()
    {
        var config = Run(() => ConnectionParameters.LoadConfig(Config is null ? null : GetUnresolvedProviderPathFromPSPath(Config), Environment));
        var environment = Run(() => config.GetEnvironment(Environment));
        return environment.LocalKey.Path;
    }
}
