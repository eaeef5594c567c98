using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Snapshots;
using EcomDr.TestKit.Servers;

namespace EcomDr.Engine.Tests.Sources.MySql.Snapshots;

/// <summary>
/// The aws-ebs provider through the real AWS SDK (AWSSDK.EC2) against the test kit's stand-in of the
/// documented EC2 query API (no EC2 can run here; LiveEbsTests is the opt-in live test): the requests'
/// actions, regions and parameters, the tags, the wait for "completed" and its timeout, a snapshot in
/// "error", the cross-region copy with its KMS key, an instance's data volumes at one instant, a
/// refused action, and a delete that tolerates a snapshot already gone.
/// </summary>
public sealed class AwsEbsSnapshotProviderTests : IAsyncLifetime
{
    private const string Home = "eu-west-1";
    private const string Offsite = "eu-central-1";
    private Ec2StandIn _ec2 = null!;

    public Task InitializeAsync()
    {
        _ec2 = Ec2StandIn.Start();
        _ec2.Volumes["vol-0data"] = Home;
        _ec2.Volumes["vol-0redo"] = Home;
        _ec2.Instances["i-0db1"] = ["vol-0data", "vol-0redo"];
        Environment.SetEnvironmentVariable("ECOMDR_TEST_EC2_AK", "AKIAIOSFODNN7EXAMPLE");
        Environment.SetEnvironmentVariable("ECOMDR_TEST_EC2_SK", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _ec2.DisposeAsync();

    private AwsEbsSnapshotProvider Provider(string? volume = "vol-0data", string? instance = null, string? copyRegion = Offsite) =>
        new(new AwsEbsProviderOptions(Home, volume, instance, copyRegion, "arn:aws:kms:eu-central-1:111122223333:key/offsite-key", true, _ec2.Endpoint.ToString(),
            "ECOMDR_TEST_EC2_AK", "ECOMDR_TEST_EC2_SK", new Dictionary<string, string> { ["cost-center"] = "shop" })
        {
            PollInterval = TimeSpan.FromMilliseconds(10),
        });

    private static SnapshotRequest Request() => new("20261207T010000Z-abc123", "/var/lib/mysql",
        new Dictionary<string, string> { ["environment"] = "prod", ["gitTag"] = "v1.4.2", ["host"] = "db1", ["backupId"] = "20261207T010000Z-abc123" });

    [Fact]
    public async Task TakesWithTagsWaitsForCompletedCopiesToTheOffsiteRegionAndDeletes()
    {
        using var provider = Provider();
        var taken = await provider.TakeAsync(Request(), CancellationToken.None);
        var create = _ec2.Requests.Single(r => r.Action == "CreateSnapshot");
        Assert.Equal((Home, "vol-0data"), (create.Region, create.Parameters["VolumeId"]));
        Assert.Equal(new Dictionary<string, string>
        {
            ["Name"] = "20261207T010000Z-abc123", ["ecomdr-backup"] = "20261207T010000Z-abc123", ["ecomdr-environment"] = "prod", ["ecomdr-gitTag"] = "v1.4.2",
            ["ecomdr-backupId"] = "20261207T010000Z-abc123", ["cost-center"] = "shop",
        }.OrderBy(t => t.Key), create.TagsOf("snapshot").OrderBy(t => t.Key));
        var id = Assert.Single(taken.Ids);
        Assert.Equal(("aws-ebs", Home, true), (taken.Provider, taken.Region, taken.Encrypted));
        Assert.Equal("pending", _ec2.Snapshots[id].State);

        await provider.CompleteAsync(taken, CancellationToken.None);
        Assert.Equal("completed", _ec2.Snapshots[id].State);
        Assert.Equal(_ec2.DescribesUntilCompleted, _ec2.Requests.Count(r => r.Action == "DescribeSnapshots" && r.Parameters["SnapshotId.1"] == id && r.Region == Home));

        var copy = await provider.CopyAsync(taken, CancellationToken.None);
        var sent = _ec2.Requests.Single(r => r.Action == "CopySnapshot");
        Assert.Equal((Offsite, Home, id, "true", "arn:aws:kms:eu-central-1:111122223333:key/offsite-key"),
            (sent.Region, sent.Parameters["SourceRegion"], sent.Parameters["SourceSnapshotId"], sent.Parameters["Encrypted"], sent.Parameters["KmsKeyId"]));
        var copied = _ec2.Snapshots[Assert.Single(copy!.Ids)];
        Assert.Equal((Offsite, $"{Home}/{id}", true), (copied.Region, copied.CopiedFrom, copied.Encrypted));
        Assert.Equal("prod", copied.Tags["ecomdr-environment"]);
        Assert.Equal((Offsite, true), (copy.Region, copy.Encrypted));

        await provider.DeleteAsync(copy, CancellationToken.None);
        await provider.DeleteAsync(taken, CancellationToken.None);
        Assert.Empty(_ec2.Snapshots);
        Assert.Equal(new[] { Offsite, Home }, _ec2.Requests.Where(r => r.Action == "DeleteSnapshot").Select(r => r.Region));
        await provider.DeleteAsync(taken, CancellationToken.None); // already gone: a retried delete succeeds
    }

    [Fact]
    public async Task TheWaitEndsAtItsTimeoutAndASnapshotInErrorFails()
    {
        _ec2.DescribesUntilCompleted = 0; // never completes
        using var slow = new AwsEbsSnapshotProvider(new AwsEbsProviderOptions(Home, "vol-0data", Endpoint: _ec2.Endpoint.ToString(),
            AccessKeyEnvironmentVariable: "ECOMDR_TEST_EC2_AK", SecretKeyEnvironmentVariable: "ECOMDR_TEST_EC2_SK")
        {
            PollInterval = TimeSpan.FromMilliseconds(10), CompletionTimeout = TimeSpan.FromMilliseconds(300),
        });
        var taken = await slow.TakeAsync(Request(), CancellationToken.None);
        var timeout = await Assert.ThrowsAsync<EcomDrException>(() => slow.CompleteAsync(taken, CancellationToken.None));
        Assert.Equal((ErrorIds.SnapshotProviderFailed, FailureKind.OperationTimeout), (timeout.ErrorId, timeout.Kind));
        Assert.Contains("had not completed", timeout.Message, StringComparison.Ordinal);
        Assert.True(_ec2.Requests.Count(r => r.Action == "DescribeSnapshots") > 2, "it asked again until the timeout");

        _ec2.Failing.Add("vol-0redo");
        using var failing = Provider(volume: "vol-0redo");
        var bad = await failing.TakeAsync(Request(), CancellationToken.None);
        var error = await Assert.ThrowsAsync<EcomDrException>(() => failing.CompleteAsync(bad, CancellationToken.None));
        Assert.Equal(ErrorIds.SnapshotProviderFailed, error.ErrorId);
        Assert.Contains("could not be created", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnInstanceIsTakenWholeAtOneInstantWithoutItsBootVolume()
    {
        using var provider = Provider(volume: null, instance: "i-0db1", copyRegion: null);
        var taken = await provider.TakeAsync(Request(), CancellationToken.None);
        var create = _ec2.Requests.Single(r => r.Action == "CreateSnapshots");
        Assert.Equal(("i-0db1", "true"), (create.Parameters["InstanceSpecification.InstanceId"], create.Parameters["InstanceSpecification.ExcludeBootVolume"]));
        Assert.Equal(new[] { "vol-0data", "vol-0redo" }, taken.Ids.Select(i => _ec2.Snapshots[i].VolumeId).Order());
        await provider.CompleteAsync(taken, CancellationToken.None);
        Assert.Null(await provider.CopyAsync(taken, CancellationToken.None));
    }

    [Fact]
    public async Task RefusedAndUnknownAreClearErrors()
    {
        _ec2.Denied.Add("CreateSnapshot");
        using var provider = Provider();
        var denied = await Assert.ThrowsAsync<EcomDrException>(() => provider.TakeAsync(Request(), CancellationToken.None));
        Assert.Equal(ErrorIds.PermissionDenied, denied.ErrorId);
        Assert.Contains("UnauthorizedOperation", denied.Message, StringComparison.Ordinal);

        using var missing = Provider(volume: "vol-0gone");
        _ec2.Denied.Clear();
        var unknown = await Assert.ThrowsAsync<EcomDrException>(() => missing.TakeAsync(Request(), CancellationToken.None));
        Assert.Equal(ErrorIds.SnapshotProviderFailed, unknown.ErrorId);
        Assert.Contains("InvalidVolume.NotFound", unknown.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wJalrXUtnFEMI", unknown.Message, StringComparison.Ordinal);
    }
}
