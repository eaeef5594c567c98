using System.Security.Cryptography;
using EcomDr.Engine.Config;
using EcomDr.Engine.Pipeline.Crypto;

namespace EcomDr.Engine.Tests.Pipeline.Crypto;

/// <summary>
/// Opt-in: the KMS provider against real AWS KMS when ECOMDR_TEST_KMS_KEY_ID names a symmetric key the
/// SDK's default credentials may use (AWS_REGION sets the region). No KMS is reachable here, so this is
/// skipped visibly in CI (docs/testing.md).
/// </summary>
public sealed class LiveKmsTests
{
    [SkippableFact]
    public async Task Live_Kms_GenerateEncryptDecrypt()
    {
        var keyId = Environment.GetEnvironmentVariable("ECOMDR_TEST_KMS_KEY_ID");
        Skip.If(string.IsNullOrEmpty(keyId), "ECOMDR_TEST_KMS_KEY_ID is not set: no live KMS key to test against");
        using var key = AwsKmsKey.Create(new KmsKeyConfig(keyId!, Environment.GetEnvironmentVariable("AWS_REGION"), null, null, null));
        var (dataKey, wrapped) = await key.NewDataKeyAsync(CancellationToken.None);
        Assert.Equal(dataKey, await key.UnwrapAsync(wrapped, CancellationToken.None));
        var mine = RandomNumberGenerator.GetBytes(32);
        Assert.Equal(mine, await key.UnwrapAsync(await key.WrapAsync(mine, CancellationToken.None), CancellationToken.None));
    }
}
