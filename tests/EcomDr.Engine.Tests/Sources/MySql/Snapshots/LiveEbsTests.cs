using EcomDr.Engine.Sources.MySql.Snapshots;

namespace EcomDr.Engine.Tests.Sources.MySql.Snapshots;

/// <summary>
/// Opt-in: the aws-ebs provider against real EC2 when ECOMDR_TEST_EBS_VOLUME_ID names a volume the SDK's
/// default credentials may snapshot (AWS_REGION sets its region; ECOMDR_TEST_EBS_COPY_REGION, when set,
/// adds the offsite copy). It takes, waits for "completed", copies and deletes everything it made. No EC2
/// is reachable here, so this is skipped visibly in CI (docs/testing.md).
/// </summary>
public sealed class LiveEbsTests
{
    [SkippableFact]
    public async Task Live_Ebs_TakeCompleteCopyDelete()
    {
        var volume = Environment.GetEnvironmentVariable("ECOMDR_TEST_EBS_VOLUME_ID");
        Skip.If(string.IsNullOrEmpty(volume), "ECOMDR_TEST_EBS_VOLUME_ID is not set: no live EBS volume to test against");
        var region = Environment.GetEnvironmentVariable("AWS_REGION") ?? "eu-west-1";
        var copyRegion = Environment.GetEnvironmentVariable("ECOMDR_TEST_EBS_COPY_REGION");
        using var provider = new AwsEbsSnapshotProvider(new AwsEbsProviderOptions(region, volume, CopyRegion: string.IsNullOrEmpty(copyRegion) ? null : copyRegion)
        {
            CompletionTimeout = TimeSpan.FromMinutes(60),
        });
        var taken = await provider.TakeAsync(new SnapshotRequest($"ecomdr-live-test-{DateTime.UtcNow:yyyyMMddHHmmss}", "/var/lib/mysql",
            new Dictionary<string, string> { ["environment"] = "live-test" }), CancellationToken.None);
        try
        {
            Assert.StartsWith("snap-", Assert.Single(taken.Ids), StringComparison.Ordinal);
            await provider.CompleteAsync(taken, CancellationToken.None);
            if (await provider.CopyAsync(taken, CancellationToken.None) is { } copy)
            {
                await provider.DeleteAsync(copy, CancellationToken.None);
            }
        }
        finally
        {
            await provider.DeleteAsync(taken, CancellationToken.None);
        }
    }
}
