using System.Net;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Sources.MySql.Snapshots;

/// <summary>
/// The "aws-ebs" provider's configuration. One volume (VolumeId: CreateSnapshot), or every data volume of
/// an instance at one instant (InstanceId: CreateSnapshots, the boot volume left out): a data directory
/// whose redo and data files sit on several volumes needs the second, or the volumes are not taken at
/// the same instant. CopyRegion (with CopyKmsKeyId, and Encrypted for the copy) is the offsite region.
/// Endpoint replaces AWS's regional endpoints (a VPC endpoint, or the tests' stand-in).
/// </summary>
public sealed record AwsEbsProviderOptions(
    string Region,
    string? VolumeId = null,
    string? InstanceId = null,
    string? CopyRegion = null,
    string? CopyKmsKeyId = null,
    bool Encrypted = true,
    string? Endpoint = null,
    string? AccessKeyEnvironmentVariable = null,
    string? SecretKeyEnvironmentVariable = null,
    IReadOnlyDictionary<string, string>? Tags = null)
{
    /// <summary>How long the snapshot may take to reach "completed" (completionTimeoutMinutes, 120 by default).</summary>
    public TimeSpan CompletionTimeout { get; init; } = TimeSpan.FromMinutes(Config.ConfigDefaults.SnapshotCompletionTimeoutMinutes);

    /// <summary>How often the snapshot's state is asked for while waiting for "completed".</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// EBS snapshots through the AWS SDK (AWSSDK.EC2, loaded in the module's own load context). An EBS
/// snapshot is point-in-time when CreateSnapshot(s) returns, so the take returns then and the freeze
/// ends; the wait for "completed" runs after it. Tags: Name and ecomdr-backup (the backup id), the
/// environment, the labels, and the configured tags, on the snapshot and its copy. The copy is
/// CopySnapshot sent to the offsite region, encrypted with its KMS key. Delete is DeleteSnapshot in the
/// snapshot's region; a snapshot already gone counts as deleted.
/// </summary>
public sealed class AwsEbsSnapshotProvider : ISnapshotProvider, IDisposable
{
    private readonly AwsEbsProviderOptions _options;
    private readonly Dictionary<string, IAmazonEC2> _clients = new(StringComparer.Ordinal);
    private readonly Func<string, IAmazonEC2> _connect;
    private readonly Dictionary<string, string> _lastTags = new(StringComparer.Ordinal);

    public AwsEbsSnapshotProvider(AwsEbsProviderOptions options)
    {
        if ((options.VolumeId is null) == (options.InstanceId is null))
        {
            throw new EcomDrException(ErrorIds.ConfigInvalid, FailureKind.InvalidArgument, "The aws-ebs provider needs exactly one of volumeId and instanceId.", "awsEbs");
        }

        _options = options;
        _connect = region =>
        {
            var settings = new AmazonEC2Config { MaxErrorRetry = 4, RetryMode = RequestRetryMode.Standard, Timeout = TimeSpan.FromSeconds(60) };
            if (options.Endpoint is not null)
            {
                settings.ServiceURL = options.Endpoint;
                settings.AuthenticationRegion = region;
            }
            else
            {
                settings.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
            }

            return Credentials() is { } credentials ? new AmazonEC2Client(credentials, settings) : new AmazonEC2Client(settings);
        };
    }

    public string Name => "aws-ebs";

    public bool Atomic => true;

    public async Task<SnapshotTaken> TakeAsync(SnapshotRequest request, CancellationToken ct)
    {
        var tags = Tags(request);
        lock (_lastTags)
        {
            _lastTags.Clear();
            foreach (var tag in tags)
            {
                _lastTags[tag.Key] = tag.Value;
            }
        }

        var ec2 = Client(_options.Region);
        var description = $"EcomDr volume snapshot {request.Name} of {request.DataDirectory}";
        if (_options.VolumeId is { } volume)
        {
            var one = await CallAsync("CreateSnapshot", () => ec2.CreateSnapshotAsync(new CreateSnapshotRequest
            {
                VolumeId = volume,
                Description = description,
                TagSpecifications = [new TagSpecification { ResourceType = ResourceType.Snapshot, Tags = tags }],
            }, ct)).ConfigureAwait(false);
            return new SnapshotTaken(Name, [one.Snapshot.SnapshotId], _options.Region, one.Snapshot.Encrypted ?? false);
        }

        var all = await CallAsync("CreateSnapshots", () => ec2.CreateSnapshotsAsync(new CreateSnapshotsRequest
        {
            InstanceSpecification = new InstanceSpecification { InstanceId = _options.InstanceId, ExcludeBootVolume = true },
            Description = description,
            TagSpecifications = [new TagSpecification { ResourceType = ResourceType.Snapshot, Tags = tags }],
        }, ct)).ConfigureAwait(false);
        if (all.Snapshots is not { Count: > 0 } made)
        {
            throw new EcomDrException(ErrorIds.SnapshotProviderFailed, FailureKind.InvalidOperation,
                $"CreateSnapshots for instance {_options.InstanceId} made no snapshot: the instance has no data volume besides its boot volume.", _options.InstanceId);
        }

        return new SnapshotTaken(Name, made.Select(s => s.SnapshotId).ToList(), _options.Region, made.All(s => s.Encrypted ?? false));
    }

    /// <summary>
    /// Asks EC2 whether the snapshot would be allowed, taking nothing: CreateSnapshot(s) with DryRun,
    /// which EC2 answers DryRunOperation when allowed and UnauthorizedOperation when not.
    /// </summary>
    public async Task<bool> DryRunAsync(CancellationToken ct)
    {
        var ec2 = Client(_options.Region);
        try
        {
            if (_options.VolumeId is { } volume)
            {
                await ec2.CreateSnapshotAsync(new CreateSnapshotRequest { VolumeId = volume, DryRun = true }, ct).ConfigureAwait(false);
            }
            else
            {
                await ec2.CreateSnapshotsAsync(new CreateSnapshotsRequest
                {
                    InstanceSpecification = new InstanceSpecification { InstanceId = _options.InstanceId, ExcludeBootVolume = true }, DryRun = true,
                }, ct).ConfigureAwait(false);
            }

            return false;
        }
        catch (AmazonEC2Exception ex) when (ex.ErrorCode == "DryRunOperation")
        {
            return true;
        }
        catch (AmazonEC2Exception ex) when (ex.StatusCode is HttpStatusCode.Forbidden || ex.ErrorCode is "UnauthorizedOperation" or "AuthFailure")
        {
            throw new EcomDrException(ErrorIds.PermissionDenied, FailureKind.PermissionDenied, $"EC2 refused the snapshot: {ex.ErrorCode}: {ex.Message}", "DryRun", ex);
        }
        catch (AmazonServiceException ex)
        {
            throw new EcomDrException(ErrorIds.SnapshotProviderFailed, FailureKind.InvalidOperation, $"EC2 DryRun failed: {ex.ErrorCode ?? ex.StatusCode.ToString()}: {ex.Message}", "DryRun", ex);
        }
        catch (AmazonClientException ex)
        {
            throw new EcomDrException(ErrorIds.SnapshotProviderFailed, FailureKind.ResourceUnavailable, $"EC2 could not be reached: {ex.Message}", "DryRun", ex);
        }
    }

    /// <summary>Waits until every snapshot is "completed"; "error" or the timeout is an error.</summary>
    public Task CompleteAsync(SnapshotTaken taken, CancellationToken ct) => WaitCompletedAsync(taken, ct);

    public async Task<SnapshotTaken?> CopyAsync(SnapshotTaken taken, CancellationToken ct)
    {
        if (_options.CopyRegion is not { } region)
        {
            return null;
        }

        List<Tag> tags;
        lock (_lastTags)
        {
            tags = _lastTags.Select(t => new Tag(t.Key, t.Value)).ToList();
        }

        var ec2 = Client(region);
        var copies = new List<string>();
        foreach (var id in taken.Ids)
        {
            // Sent to the destination region's endpoint; the SDK signs the pre-signed URL the query API wants for an encrypted source.
            var copy = await CallAsync("CopySnapshot", () => ec2.CopySnapshotAsync(new CopySnapshotRequest
            {
                SourceRegion = taken.Region,
                SourceSnapshotId = id,
                DestinationRegion = region,
                Encrypted = _options.Encrypted,
                KmsKeyId = _options.CopyKmsKeyId,
                Description = $"EcomDr offsite copy of {id} ({taken.Region})",
                TagSpecifications = tags.Count > 0 ? [new TagSpecification { ResourceType = ResourceType.Snapshot, Tags = tags }] : null,
            }, ct)).ConfigureAwait(false);
            copies.Add(copy.SnapshotId);
        }

        return new SnapshotTaken(Name, copies, region, _options.Encrypted || taken.Encrypted);
    }

    public async Task DeleteAsync(SnapshotTaken taken, CancellationToken ct)
    {
        var ec2 = Client(taken.Region ?? _options.Region);
        foreach (var id in taken.Ids)
        {
            try
            {
                await CallAsync("DeleteSnapshot", () => ec2.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = id }, ct)).ConfigureAwait(false);
            }
            catch (EcomDrException ex) when (ex.InnerException is AmazonEC2Exception { ErrorCode: "InvalidSnapshot.NotFound" })
            {
                // gone already: a retried delete
            }
        }
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }
    }

    private async Task WaitCompletedAsync(SnapshotTaken taken, CancellationToken ct)
    {
        var ec2 = Client(taken.Region ?? _options.Region);
        var until = DateTimeOffset.UtcNow + _options.CompletionTimeout;
        var pending = taken.Ids.ToList();
        while (true)
        {
            var answer = await CallAsync("DescribeSnapshots", () => ec2.DescribeSnapshotsAsync(new DescribeSnapshotsRequest { SnapshotIds = pending }, ct)).ConfigureAwait(false);
            var states = (answer.Snapshots ?? []).ToDictionary(s => s.SnapshotId, StringComparer.Ordinal);
            foreach (var id in pending.ToList())
            {
                if (!states.TryGetValue(id, out var snapshot))
                {
                    throw new EcomDrException(ErrorIds.SnapshotProviderFailed, FailureKind.ObjectNotFound, $"EBS snapshot {id} in {taken.Region} went away before it completed.", id);
                }

                if (snapshot.State == SnapshotState.Error)
                {
                    throw new EcomDrException(ErrorIds.SnapshotProviderFailed, FailureKind.InvalidOperation,
                        $"EBS snapshot {id} in {taken.Region} failed: {snapshot.StateMessage ?? "state error"}.", id);
                }

                if (snapshot.State == SnapshotState.Completed)
                {
                    pending.Remove(id);
                }
            }

            if (pending.Count == 0)
            {
                return;
            }

            if (DateTimeOffset.UtcNow >= until)
            {
                throw new EcomDrException(ErrorIds.SnapshotProviderFailed, FailureKind.OperationTimeout,
                    $"EBS snapshot(s) {string.Join(", ", pending)} in {taken.Region} had not completed after {_options.CompletionTimeout.TotalMinutes:0.#} minute(s) (completionTimeoutMinutes).",
                    string.Join(",", pending));
            }

            await Task.Delay(_options.PollInterval, ct).ConfigureAwait(false);
        }
    }

    private List<Tag> Tags(SnapshotRequest request)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Name"] = request.Name,
            ["ecomdr-backup"] = request.Name,
        };
        foreach (var (key, value) in request.Labels.Where(l => l.Key is not "host" and not "toolVersion"))
        {
            tags[$"ecomdr-{key}"] = value;
        }

        foreach (var (key, value) in _options.Tags ?? new Dictionary<string, string>())
        {
            tags[key] = value;
        }

        return tags.Select(t => new Tag(t.Key, t.Value)).ToList();
    }

    private IAmazonEC2 Client(string region)
    {
        lock (_clients)
        {
            if (!_clients.TryGetValue(region, out var client))
            {
                _clients[region] = client = _connect(region);
            }

            return client;
        }
    }

    private AWSCredentials? Credentials()
    {
        if (_options.AccessKeyEnvironmentVariable is not { } accessVariable)
        {
            return null; // the SDK's default chain: environment, web identity, instance role
        }

        var access = Environment.GetEnvironmentVariable(accessVariable);
        var secret = Environment.GetEnvironmentVariable(_options.SecretKeyEnvironmentVariable ?? "");
        if (string.IsNullOrEmpty(access) || string.IsNullOrEmpty(secret))
        {
            throw new EcomDrException(ErrorIds.SecretNotFound, FailureKind.ObjectNotFound,
                $"The aws-ebs provider: environment variables {accessVariable} and {_options.SecretKeyEnvironmentVariable} must both be set.", accessVariable);
        }

        return new BasicAWSCredentials(access, secret);
    }

    private static async Task<T> CallAsync<T>(string action, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (AmazonEC2Exception ex) when (ex.StatusCode is HttpStatusCode.Forbidden || ex.ErrorCode is "UnauthorizedOperation" or "AuthFailure")
        {
            throw new EcomDrException(ErrorIds.PermissionDenied, FailureKind.PermissionDenied, $"EC2 refused {action}: {ex.ErrorCode}: {ex.Message}", action, ex);
        }
        catch (AmazonServiceException ex)
        {
            throw new EcomDrException(ErrorIds.SnapshotProviderFailed, FailureKind.InvalidOperation, $"EC2 {action} failed: {ex.ErrorCode ?? ex.StatusCode.ToString()}: {ex.Message}", action, ex);
        }
        catch (AmazonClientException ex)
        {
            throw new EcomDrException(ErrorIds.SnapshotProviderFailed, FailureKind.ResourceUnavailable, $"EC2 {action} could not be sent: {ex.Message}", action, ex);
        }
    }
}
