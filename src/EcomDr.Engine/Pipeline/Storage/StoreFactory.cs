using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using EcomDr.Engine.Config;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Pipeline.Storage;

/// <summary>Builds a store from a configured repository or from a location string.</summary>
public static class StoreFactory
{
    public static IObjectStore Create(RepositoryConfig repository, S3StoreOptions? options = null)
    {
        if (repository.Type == RepositoryType.FileSystem)
        {
            return new FileSystemStore(repository.Name, repository.Path!);
        }

        var s3 = repository.S3!;
        var client = S3ObjectStore.CreateClient(s3.Endpoint, s3.Region, s3.ForcePathStyle, Credentials(s3, repository.Name), options);
        return new S3ObjectStore(repository.Name, client, s3.Bucket, s3.Prefix, options, s3.ServerSideEncryption, s3.StorageClass);
    }

    /// <summary>
    /// A store from a location: a folder path, or s3://bucket/prefix (endpoint and region from
    /// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL and AWS_REGION, credentials from the SDK's default chain).
    /// </summary>
    public static IObjectStore FromLocation(string name, string location)
    {
        if (!location.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            return new FileSystemStore(name, location);
        }

        var rest = location[5..];
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? null : rest[(slash + 1)..];
        if (bucket.Length == 0)
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, $"'{location}' names no bucket (s3://bucket/prefix).", location);
        }

        var endpoint = Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3") ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL");
        return Create(new RepositoryConfig(name, RepositoryType.S3, null,
            new S3RepositoryConfig(bucket, prefix, endpoint, Environment.GetEnvironmentVariable("AWS_REGION"), ForcePathStyle: endpoint is not null,
                null, null, null, null, null)));
    }

    private static AWSCredentials? Credentials(S3RepositoryConfig s3, string repository)
    {
        if (s3.AccessKeyEnvironmentVariable is { } accessVar)
        {
            var access = Environment.GetEnvironmentVariable(accessVar);
            var secret = Environment.GetEnvironmentVariable(s3.SecretKeyEnvironmentVariable!);
            if (string.IsNullOrEmpty(access) || string.IsNullOrEmpty(secret))
            {
                throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.ObjectNotFound,
                    $"Repository '{repository}': environment variables {accessVar} and {s3.SecretKeyEnvironmentVariable} must both be set.", repository);
            }

            return new BasicAWSCredentials(access, secret);
        }

        if (s3.Profile is { } profile)
        {
            if (!new CredentialProfileStoreChain().TryGetAWSCredentials(profile, out var credentials))
            {
                throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.ObjectNotFound, $"Repository '{repository}': no AWS profile '{profile}'.", profile);
            }

            return credentials;
        }

        return null; // the SDK's default chain: environment, web identity, instance role
    }
}
