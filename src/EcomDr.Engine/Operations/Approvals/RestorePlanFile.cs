using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Crypto;

namespace EcomDr.Engine.Operations.Approvals;

/// <summary>One approval of a restore plan: who, with which key, when, and the signature over the plan's digest.</summary>
public sealed record RestoreApproval(string Approver, string KeyId, DateTimeOffset SignedAt, string Signature);

/// <summary>
/// A restore plan for peer review (docs/approvals.md): what a restore will do (the backup, the chain, the
/// stop point, the target, the schema map), its SHA-256 over the canonical JSON, and the approvals, each
/// an ECDSA signature by a listed approver over "ecomdr/restore-plan/v1|digest|approver|time". A restore
/// into a protected target runs only from a plan whose digest still matches what it would do now.
/// </summary>
public sealed class RestorePlanFile
{
    private readonly List<RestoreApproval> _approvals;

    private RestorePlanFile(JsonObject plan, string digest, List<RestoreApproval> approvals)
    {
        Plan = plan;
        Digest = digest;
        _approvals = approvals;
    }

    public JsonObject Plan { get; }

    public string Digest { get; }

    public IReadOnlyList<RestoreApproval> Approvals => _approvals;

    public string Author => (string?)Plan["author"] ?? "";

    public string Describe => (string?)Plan["describe"] ?? "";

    public static RestorePlanFile Create(JsonObject plan) => new(plan, DigestOf(plan), []);

    /// <summary>The SHA-256 of the plan's canonical JSON (keys sorted at every level, no spaces).</summary>
    public static string DigestOf(JsonObject plan) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical(plan)!.ToJsonString()))).ToLowerInvariant();

    public static RestorePlanFile Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new EcomDrException(ErrorIds.PathNotFound, FailureKind.ObjectNotFound, $"No restore plan at {path}.", path);
        }

        JsonObject file;
        try
        {
            file = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or NullReferenceException)
        {
            throw new EcomDrException(ErrorIds.RestorePlanTampered, FailureKind.InvalidData, $"{path} is not a restore plan: {ex.Message}", path, ex);
        }

        if (file["plan"] is not JsonObject plan || (string?)file["digest"] is not { } digest)
        {
            throw new EcomDrException(ErrorIds.RestorePlanTampered, FailureKind.InvalidData, $"{path} is not a restore plan (no plan or digest).", path);
        }

        var actual = DigestOf(plan);
        if (actual != digest)
        {
            throw new EcomDrException(ErrorIds.RestorePlanTampered, FailureKind.InvalidData,
                $"{path} was changed after it was written: its plan gives digest {actual}, the file states {digest}. Nothing was changed.", path);
        }

        var approvals = (file["approvals"] as JsonArray ?? []).OfType<JsonObject>().Select(a => new RestoreApproval((string?)a["approver"] ?? "", (string?)a["keyId"] ?? "",
            DateTimeOffset.Parse((string?)a["signedAt"] ?? "0001-01-01T00:00:00Z", CultureInfo.InvariantCulture), (string?)a["signature"] ?? "")).ToList();
        return new RestorePlanFile((JsonObject)plan.DeepClone(), digest, approvals);
    }

    /// <summary>Written beside the path and moved into place: an interrupted write leaves no plan that looks whole.</summary>
    public void Save(string path)
    {
        var file = new JsonObject
        {
            ["plan"] = Plan.DeepClone(),
            ["digest"] = Digest,
            ["approvals"] = new JsonArray(_approvals.Select(a => (JsonNode)new JsonObject
            {
                ["approver"] = a.Approver,
                ["keyId"] = a.KeyId,
                ["signedAt"] = a.SignedAt.ToString("O", CultureInfo.InvariantCulture),
                ["signature"] = a.Signature,
            }).ToArray()),
        };
        var partial = path + ".partial";
        File.WriteAllText(partial, file.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        File.Move(partial, path, overwrite: true);
    }

    /// <summary>Adds the key holder's approval; the plan's own author cannot approve it.</summary>
    public RestoreApproval Approve(ApproverKey key, DateTimeOffset now)
    {
        if (key.Name.Equals(Author, StringComparison.OrdinalIgnoreCase))
        {
            throw new EcomDrException(ErrorIds.RestorePlanSelfApproved, FailureKind.SecurityError,
                $"{key.Name} wrote this plan and cannot approve it: a second person reviews it. Nothing was signed.", key.Name);
        }

        var approval = new RestoreApproval(key.Name, key.KeyId, now, Convert.ToBase64String(key.Sign(Message(key.Name, now))));
        _approvals.RemoveAll(a => a.Approver.Equals(key.Name, StringComparison.OrdinalIgnoreCase));
        _approvals.Add(approval);
        return approval;
    }

    /// <summary>
    /// The approvals that hold: signed by a listed approver's key, over this digest, within approvalHours,
    /// not by the author. Refuses, with its own error, a plan that has fewer than required.
    /// </summary>
    public IReadOnlyList<RestoreApproval> Verify(RestoreConfig config, DateTimeOffset now)
    {
        var valid = new List<RestoreApproval>();
        var problems = new List<(string Id, string Why)>();
        foreach (var approval in _approvals)
        {
            var listed = config.Approvers.FirstOrDefault(a => a.Name.Equals(approval.Approver, StringComparison.OrdinalIgnoreCase));
            if (listed is null)
            {
                problems.Add((ErrorIds.RestoreApprovalInvalid, $"{approval.Approver} is not a listed approver (restore.approvers)"));
                continue;
            }

            var (_, key) = PublicSigningKey.Read(listed.PublicKeyPem, listed.Name);
            using (key)
            {
                byte[] signature;
                try
                {
                    signature = Convert.FromBase64String(approval.Signature);
                }
                catch (FormatException)
                {
                    signature = [];
                }

                if (!key.VerifyData(Message(approval.Approver, approval.SignedAt), signature, HashAlgorithmName.SHA256))
                {
                    problems.Add((ErrorIds.RestoreApprovalInvalid, $"{approval.Approver}'s signature does not verify with their listed key: the plan or the approval was changed, or another key signed"));
                    continue;
                }
            }

            if (approval.Approver.Equals(Author, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add((ErrorIds.RestorePlanSelfApproved, $"{approval.Approver} wrote the plan and approved it: a second person must"));
                continue;
            }

            if (approval.SignedAt.AddHours(config.ApprovalHours) < now || approval.SignedAt > now.AddMinutes(5))
            {
                problems.Add((ErrorIds.RestorePlanExpired, $"{approval.Approver}'s approval of {approval.SignedAt:u} is older than {config.ApprovalHours} h (restore.approvalHours)"));
                continue;
            }

            valid.Add(approval);
        }

        var distinct = valid.Select(v => v.Approver.ToLowerInvariant()).Distinct().Count();
        if (distinct < config.RequiredApprovals)
        {
            var id = problems.Count > 0 ? problems[0].Id : ErrorIds.RestoreApprovalRequired;
            throw new EcomDrException(id, FailureKind.SecurityError,
                $"The plan has {distinct} valid approval(s) of {config.RequiredApprovals} required{(problems.Count > 0 ? ": " + string.Join("; ", problems.Select(p => p.Why)) : "")}. " +
                "Have it approved (Approve-DrRestorePlan) by a listed approver who did not write it. Nothing was changed.", Digest);
        }

        return valid;
    }

    private byte[] Message(string approver, DateTimeOffset signedAt) =>
        Encoding.UTF8.GetBytes($"ecomdr/restore-plan/v1|{Digest}|{approver.ToLowerInvariant()}|{signedAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)}");

    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value)))),
        JsonArray a => new JsonArray(a.Select(Canonical).ToArray()),
        null => null,
        _ => node.DeepClone(),
    };
}
