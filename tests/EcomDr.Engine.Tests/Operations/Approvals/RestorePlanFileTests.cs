using System.Text.Json.Nodes;
using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Operations.Approvals;

namespace EcomDr.Engine.Tests.Operations.Approvals;

/// <summary>
/// Restore plans and their approvals, with real keys and files: a plan approved by a listed approver
/// passes; unapproved, tampered (the plan or an approval), expired, self-approved and foreign-key
/// approvals are each refused with their own error id.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class RestorePlanFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ecomdr-plans-").FullName;
    private readonly ApproverKey _bob;
    private readonly ApproverKey _carol;
    private readonly ApproverKey _alice;

    public RestorePlanFileTests()
    {
        _bob = ApproverKey.Create(Path.Join(_dir, "bob.key"), "bob");
        _carol = ApproverKey.Create(Path.Join(_dir, "carol.key"), "carol");
        _alice = ApproverKey.Create(Path.Join(_dir, "alice.key"), "alice");
    }

    public void Dispose()
    {
        _bob.Dispose();
        _carol.Dispose();
        _alice.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static JsonObject Plan() => new()
    {
        ["operation"] = RestorePlans.Pitr,
        ["target"] = "db-prod:3306",
        ["backup"] = "20261207T010000Z-abc123",
        ["chain"] = new JsonArray("20261207T011500Z-000001", "20261207T013000Z-000002"),
        ["stop"] = new JsonObject { ["stopBeforeGtid"] = "0-1-4711" },
        ["schemaMap"] = new JsonObject { ["shop"] = "shop_restore" },
        ["author"] = "alice",
        ["created"] = "2026-12-07T09:00:00.0000000+00:00",
    };

    private RestoreConfig Config(int required = 1, int hours = 24, params ApproverKey[] approvers) =>
        new(required, approvers.Select(a => new ApproverConfig(a.Name, a.PublicKeyPem)).ToList(), ["db-prod"], hours);

    private string Saved(Action<RestorePlanFile>? approve = null)
    {
        var file = RestorePlanFile.Create(Plan());
        approve?.Invoke(file);
        var path = Path.Join(_dir, $"plan-{Guid.NewGuid():N}.json");
        file.Save(path);
        return path;
    }

    [Fact]
    public void AnApprovedPlanPassesAndItsDigestIsItsContent()
    {
        var path = Saved(f => f.Approve(_bob, DateTimeOffset.UtcNow));
        var loaded = RestorePlanFile.Load(path);
        var valid = loaded.Verify(Config(1, 24, _bob, _carol), DateTimeOffset.UtcNow);
        Assert.Equal("bob", Assert.Single(valid).Approver);
        Assert.Equal(RestorePlanFile.DigestOf(Plan()), loaded.Digest);

        // The digest does not depend on key order, and does on every value.
        var reordered = new JsonObject(Plan().Reverse().Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
        Assert.Equal(loaded.Digest, RestorePlanFile.DigestOf(reordered));
        var other = Plan();
        other["target"] = "db-prod:3307";
        Assert.NotEqual(loaded.Digest, RestorePlanFile.DigestOf(other));

        // Two required: a second, different approver makes it.
        var two = RestorePlanFile.Load(path);
        Assert.Equal(ErrorIds.RestoreApprovalRequired, Assert.Throws<EcomDrException>(() => two.Verify(Config(2, 24, _bob, _carol), DateTimeOffset.UtcNow)).ErrorId);
        two.Approve(_carol, DateTimeOffset.UtcNow);
        Assert.Equal(2, two.Verify(Config(2, 24, _bob, _carol), DateTimeOffset.UtcNow).Count);
    }

    [Fact]
    public void UnapprovedTamperedExpiredSelfApprovedAndForeignPlansAreRefusedEachWithItsOwnId()
    {
        var config = Config(1, 24, _bob, _alice);
        Assert.Equal(ErrorIds.RestoreApprovalRequired, Assert.Throws<EcomDrException>(() => RestorePlanFile.Load(Saved()).Verify(config, DateTimeOffset.UtcNow)).ErrorId);

        // The plan changed after it was written (its stop point moved): the digest no longer matches.
        var tampered = Saved(f => f.Approve(_bob, DateTimeOffset.UtcNow));
        File.WriteAllText(tampered, File.ReadAllText(tampered).Replace("0-1-4711", "0-1-9999", StringComparison.Ordinal));
        var ex = Assert.Throws<EcomDrException>(() => RestorePlanFile.Load(tampered));
        Assert.Equal((ErrorIds.RestorePlanTampered, FailureKind.InvalidData), (ex.ErrorId, ex.Kind));

        // The approval's time moved later: its signature no longer verifies.
        var moved = Saved(f => f.Approve(_bob, DateTimeOffset.UtcNow.AddHours(-30)));
        var movedJson = JsonNode.Parse(File.ReadAllText(moved))!;
        movedJson["approvals"]![0]!["signedAt"] = DateTimeOffset.UtcNow.ToString("O");
        File.WriteAllText(moved, movedJson.ToJsonString());
        Assert.Equal(ErrorIds.RestoreApprovalInvalid, Assert.Throws<EcomDrException>(() => RestorePlanFile.Load(moved).Verify(config, DateTimeOffset.UtcNow)).ErrorId);

        var expired = Saved(f => f.Approve(_bob, DateTimeOffset.UtcNow.AddHours(-25)));
        Assert.Equal(ErrorIds.RestorePlanExpired, Assert.Throws<EcomDrException>(() => RestorePlanFile.Load(expired).Verify(config, DateTimeOffset.UtcNow)).ErrorId);
        Assert.Single(RestorePlanFile.Load(expired).Verify(Config(1, 48, _bob), DateTimeOffset.UtcNow)); // within a longer approvalHours

        // The author cannot approve, neither through Approve nor by writing an approval in.
        var self = RestorePlanFile.Load(Saved());
        Assert.Equal(ErrorIds.RestorePlanSelfApproved, Assert.Throws<EcomDrException>(() => self.Approve(_alice, DateTimeOffset.UtcNow)).ErrorId);
        var forged = Saved();
        var json = JsonNode.Parse(File.ReadAllText(forged))!.AsObject();
        var signer = RestorePlanFile.Create(Plan() is var p ? WithAuthor(p, "someone-else") : p);
        var signature = signer.Approve(_alice, DateTimeOffset.UtcNow);
        json["approvals"] = new JsonArray(new JsonObject { ["approver"] = "alice", ["keyId"] = signature.KeyId, ["signedAt"] = signature.SignedAt.ToString("O"), ["signature"] = signature.Signature });
        File.WriteAllText(forged, json.ToJsonString());
        Assert.Contains(Assert.Throws<EcomDrException>(() => RestorePlanFile.Load(forged).Verify(config, DateTimeOffset.UtcNow)).ErrorId,
            new[] { ErrorIds.RestorePlanSelfApproved, ErrorIds.RestoreApprovalInvalid }); // another plan's signature does not verify either way

        // A key that is not listed, though named like a listed approver.
        using var impostor = ApproverKey.Create(Path.Join(_dir, "impostor.key"), "bob");
        var foreign = Saved(f => f.Approve(impostor, DateTimeOffset.UtcNow));
        Assert.Equal(ErrorIds.RestoreApprovalInvalid, Assert.Throws<EcomDrException>(() => RestorePlanFile.Load(foreign).Verify(config, DateTimeOffset.UtcNow)).ErrorId);
        Assert.Equal(ErrorIds.RestoreApprovalInvalid, Assert.Throws<EcomDrException>(() => RestorePlanFile.Load(Saved(f => f.Approve(_carol, DateTimeOffset.UtcNow))).Verify(config, DateTimeOffset.UtcNow)).ErrorId);
    }

    [Fact]
    public void AnApproverKeyIsOwnerOnlyAndLoadsBack()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_bob.Path));
        using var loaded = ApproverKey.Load(_bob.Path);
        Assert.Equal((_bob.Name, _bob.KeyId), (loaded.Name, loaded.KeyId));
        Assert.Contains("BEGIN PUBLIC KEY", File.ReadAllText(_bob.PublicKeyPath), StringComparison.Ordinal);
        Assert.Equal(ErrorIds.KeyExists, Assert.Throws<EcomDrException>(() => ApproverKey.Create(_bob.Path, "bob")).ErrorId);
    }

    private static JsonObject WithAuthor(JsonObject plan, string author)
    {
        plan["author"] = author;
        return plan;
    }
}
