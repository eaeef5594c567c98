using System.Net;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Pipeline.Storage;

/// <summary>Settings of an S3 store beyond the configuration file's (sizes and retries, mostly for tests).</summary>
public sealed record S3StoreOptions(int PartSize = 8 << 20, int Concurrency = 4, int MaxErrorRetry = 4, TimeSpan? Timeout = null);

/// <summary>
/// A repository in an S3 bucket under a prefix, through AWSSDK.S3: streaming multipart uploads with
/// parts sent in parallel (memory: Concurrency + 1 parts), the SDK's retries with backoff for
/// transient errors, optional SSE and storage class, labels as object tags (set after upload). Chunked (aws-chunked)
/// payload encoding is off on every put and part, which S3-compatible servers need.
/// </summary>
public sealed partial class S3ObjectStore : IObjectStore, IDisposable
{
    private readonly IAmazonS3 _client;
    private readonly string _bucket;
    private readonly string _prefix;
    private readonly S3StoreOptions _options;
    private readonly ServerSideEncryptionMethod? _sse;
    private readonly S3StorageClass? _storageClass;

    public S3ObjectStore(string name, IAmazonS3 client, string bucket, string? prefix, S3StoreOptions? options = null,
        string? serverSideEncryption = null, string? storageClass = null)
    {
        Name = name;
        _client = client;
        _bucket = bucket;
        _prefix = string.IsNullOrEmpty(prefix) ? "" : prefix.TrimEnd('/') + "/";
        _options = options ?? new S3StoreOptions();
        _sse = serverSideEncryption is null ? null : ServerSideEncryptionMethod.FindValue(serverSideEncryption);
        _storageClass = storageClass is null ? null : S3StorageClass.FindValue(storageClass);
    }

    public string Name { get; }

    public string Location => $"s3://{_bucket}/{_prefix}";

    /// <summary>A client for an endpoint (AWS when null) with explicit or default credentials.</summary>
    public static IAmazonS3 CreateClient(string? endpoint, string? region, bool forcePathStyle, AWSCredentials? credentials, S3StoreOptions? options = null)
    {
        var settings = options ?? new S3StoreOptions();
        var config = new AmazonS3Config
        {
            ForcePathStyle = forcePathStyle,
            MaxErrorRetry = settings.MaxErrorRetry,
            RetryMode = RequestRetryMode.Standard,
            Timeout = settings.Timeout ?? TimeSpan.FromMinutes(5),
            // Checksums only where S3 requires them: trailing-checksum uploads need chunk encoding.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (endpoint is not null)
        {
            config.ServiceURL = endpoint;
            config.AuthenticationRegion = region ?? "us-east-1";
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region ?? "us-east-1");
        }

        return credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }

    public async Task<IStoreUpload> BeginUploadAsync(string key, IReadOnlyDictionary<string, string>? tags, CancellationToken cancellationToken)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        return new S3Upload(this, KeyOf(key), TagsOf(tags));
    }

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.GetObjectAsync(_bucket, KeyOf(key), cancellationToken).ConfigureAwait(false);
            return new ResponseStream(response);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            throw new EcomDrException(ErrorIds.ArtifactMissing, FailureKind.ObjectNotFound, $"{Location}{key} does not exist.", key);
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            throw Unavailable($"reading {key}", ex);
        }
    }

    public async IAsyncEnumerable<StoreObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = _prefix + prefix };
        do
        {
            ListObjectsV2Response response;
            try
            {
                response = await _client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransportFailure(ex))
            {
                throw Unavailable("listing", ex);
            }

            foreach (var obj in response.S3Objects ?? new List<S3Object>())
            {
                yield return new StoreObject(obj.Key[_prefix.Length..], obj.Size ?? 0, obj.LastModified ?? DateTime.MinValue);
            }

            request.ContinuationToken = response.NextContinuationToken;
            if (response.IsTruncated != true)
            {
                break;
            }
        }
        while (true);
    }

    public async Task<StoreObject?> StatAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.GetObjectMetadataAsync(_bucket, KeyOf(key), cancellationToken).ConfigureAwait(false);
            return new StoreObject(key, response.ContentLength, response.LastModified ?? DateTime.MinValue);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            throw Unavailable($"reading {key}", ex);
        }
    }

    public async Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        await PutObjectAsync(KeyOf(key), content, ifNoneMatch: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Uses a conditional put (If-None-Match: *), which AWS S3 honours. Servers that ignore it make
    /// this a check-then-put, so a lock on such a store is advisory (documented).
    /// </summary>
    public async Task<bool> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        if (await StatAsync(key, cancellationToken).ConfigureAwait(false) is not null)
        {
            return false;
        }

        try
        {
            await PutObjectAsync(KeyOf(key), content, ifNoneMatch: true, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict)
        {
            return false;
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await _client.DeleteObjectAsync(_bucket, KeyOf(key), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            throw Unavailable($"deleting {key}", ex);
        }
    }

    public void Dispose() => _client.Dispose();

    private async Task PutObjectAsync(string fullKey, ReadOnlyMemory<byte> content, bool ifNoneMatch, CancellationToken cancellationToken)
    {
        var request = new PutObjectRequest
        {
            BucketName = _bucket,
            Key = fullKey,
            InputStream = AsStream(content),
            UseChunkEncoding = false,
        };
        if (ifNoneMatch)
        {
            request.IfNoneMatch = "*";
        }

        ApplyStorageSettings(request);
        try
        {
            await _client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            throw Unavailable($"writing {fullKey}", ex);
        }
    }

    /// <summary>
    /// Tags an object with the backup's labels through the tagging subresource, which AWS S3 and
    /// more S3-compatible servers support than the x-amz-tagging upload header. A server that does
    /// not implement tagging at all (501) keeps the object untagged; the manifest still has the labels.
    /// </summary>
    private async Task TagAsync(string fullKey, List<Tag>? tags, CancellationToken cancellationToken)
    {
        if (tags is null)
        {
            return;
        }

        try
        {
            await _client.PutObjectTaggingAsync(new PutObjectTaggingRequest { BucketName = _bucket, Key = fullKey, Tagging = new Tagging { TagSet = tags } },
                cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotImplemented)
        {
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            throw Unavailable($"tagging {fullKey}", ex);
        }
    }

    private void ApplyStorageSettings(PutObjectRequest request)
    {
        if (_sse is not null)
        {
            request.ServerSideEncryptionMethod = _sse;
        }

        if (_storageClass is not null)
        {
            request.StorageClass = _storageClass;
        }
    }

    private string KeyOf(string key) => _prefix + StoreKeys.Validate(key);

    // Parts are whole byte arrays: wrap them instead of copying (memory stays at Concurrency + 1 parts).
    private static MemoryStream AsStream(ReadOnlyMemory<byte> content) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(content, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);

    // S3 tags: at most 10, keys up to 128 and values up to 256 characters from a restricted set.
    private static List<Tag>? TagsOf(IReadOnlyDictionary<string, string>? tags) =>
        tags is null || tags.Count == 0
            ? null
            : tags.Take(10).Select(t => new Tag { Key = Clean(t.Key, 128), Value = Clean(t.Value, 256) }).ToList();

    private static string Clean(string text, int max)
    {
        var cleaned = TagUnsafe().Replace(text, "_");
        return cleaned.Length > max ? cleaned[..max] : cleaned;
    }

    [GeneratedRegex(@"[^\p{L}\p{Z}\p{N}_.:/=+\-@]")]
    private static partial Regex TagUnsafe();

    private static bool IsTransportFailure(Exception ex) =>
        ex is AmazonServiceException { StatusCode: not HttpStatusCode.NotFound and not HttpStatusCode.PreconditionFailed } or AmazonClientException or HttpRequestException or IOException
            or TaskCanceledException { CancellationToken.IsCancellationRequested: false };

    private EcomDrException Unavailable(string what, Exception ex) =>
        new(ErrorIds.StoreUnavailable, FailureKind.ResourceUnavailable, $"{Location}: {what} failed after retries: {ex.Message}", Location, ex);

    /// <summary>Multipart upload fed by a write stream; parts go out in parallel as they fill.</summary>
    private sealed class S3Upload : IStoreUpload
    {
        private readonly S3ObjectStore _store;
        private readonly string _key;
        private readonly List<Tag>? _tags;
        private readonly PartStream _stream;
        private readonly List<Task<PartETag>> _parts = new();
        private readonly SemaphoreSlim _slots;
        private string? _uploadId;
        private bool _committed;

        public S3Upload(S3ObjectStore store, string key, List<Tag>? tags)
        {
            _store = store;
            _key = key;
            _tags = tags;
            _slots = new SemaphoreSlim(store._options.Concurrency);
            _stream = new PartStream(store._options.PartSize, SendPartAsync);
        }

        public Stream Stream => _stream;

        public async Task CommitAsync(CancellationToken cancellationToken)
        {
            var last = _stream.TakeBuffer();
            if (_uploadId is null)
            {
                // Small object: one plain put.
                await _store.PutObjectAsync(_key, last, ifNoneMatch: false, cancellationToken).ConfigureAwait(false);
                _committed = true;
                await _store.TagAsync(_key, _tags, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (last.Length > 0)
            {
                await SendPartAsync(last, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                var etags = await Task.WhenAll(_parts).ConfigureAwait(false);
                var request = new CompleteMultipartUploadRequest { BucketName = _store._bucket, Key = _key, UploadId = _uploadId };
                request.AddPartETags(etags.OrderBy(e => e.PartNumber));
                await _store._client.CompleteMultipartUploadAsync(request, cancellationToken).ConfigureAwait(false);
                _committed = true;
            }
            catch (Exception ex) when (IsTransportFailure(ex))
            {
                throw _store.Unavailable($"uploading {_key}", ex);
            }

            await _store.TagAsync(_key, _tags, cancellationToken).ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_committed && _uploadId is not null)
            {
                try
                {
                    await Task.WhenAll(_parts).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // the part failures are what the caller already saw
                }

                try
                {
                    await _store._client.AbortMultipartUploadAsync(_store._bucket, _key, _uploadId).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsTransportFailure(ex))
                {
                    // the store is gone; its lifecycle rule (or Remove-DrBackup -Incomplete) cleans up
                }
            }

            _slots.Dispose();
        }

        private async Task SendPartAsync(ReadOnlyMemory<byte> part, CancellationToken cancellationToken)
        {
            if (_uploadId is null)
            {
                var initiate = new InitiateMultipartUploadRequest { BucketName = _store._bucket, Key = _key };
                if (_store._sse is not null)
                {
                    initiate.ServerSideEncryptionMethod = _store._sse;
                }

                if (_store._storageClass is not null)
                {
                    initiate.StorageClass = _store._storageClass;
                }

                try
                {
                    _uploadId = (await _store._client.InitiateMultipartUploadAsync(initiate, cancellationToken).ConfigureAwait(false)).UploadId;
                }
                catch (Exception ex) when (IsTransportFailure(ex))
                {
                    throw _store.Unavailable($"starting the upload of {_key}", ex);
                }
            }

            // A failed part fails the writer at its next write instead of at commit time.
            var failed = _parts.FirstOrDefault(p => p.IsFaulted);
            if (failed is not null)
            {
                await failed.ConfigureAwait(false);
            }

            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            var number = _parts.Count + 1;
            _parts.Add(UploadPartAsync(number, part, cancellationToken));
        }

        private async Task<PartETag> UploadPartAsync(int number, ReadOnlyMemory<byte> part, CancellationToken cancellationToken)
        {
            try
            {
                var response = await _store._client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = _store._bucket,
                    Key = _key,
                    UploadId = _uploadId,
                    PartNumber = number,
                    PartSize = part.Length,
                    InputStream = AsStream(part),
                    UseChunkEncoding = false,
                }, cancellationToken).ConfigureAwait(false);
                return new PartETag(number, response.ETag);
            }
            catch (Exception ex) when (IsTransportFailure(ex))
            {
                throw _store.Unavailable($"uploading part {number} of {_key}", ex);
            }
            finally
            {
                _slots.Release();
            }
        }
    }

    /// <summary>Write stream that hands out full part buffers.</summary>
    private sealed class PartStream : IO.WriteOnlyStream
    {
        private readonly int _partSize;
        private readonly Func<ReadOnlyMemory<byte>, CancellationToken, Task> _onPart;
        private byte[] _buffer;
        private int _filled;

        public PartStream(int partSize, Func<ReadOnlyMemory<byte>, CancellationToken, Task> onPart)
        {
            _partSize = partSize;
            _onPart = onPart;
            _buffer = new byte[partSize];
        }

        public ReadOnlyMemory<byte> TakeBuffer()
        {
            var taken = _buffer.AsMemory(0, _filled);
            _buffer = Array.Empty<byte>();
            _filled = 0;
            return taken;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (buffer.Length > 0)
            {
                var take = Math.Min(buffer.Length, _partSize - _filled);
                buffer[..take].CopyTo(_buffer.AsMemory(_filled));
                _filled += take;
                buffer = buffer[take..];
                if (_filled == _partSize && buffer.Length > 0)
                {
                    // The full buffer now belongs to its upload; a new one takes the next bytes.
                    var full = _buffer;
                    _buffer = new byte[_partSize];
                    _filled = 0;
                    await _onPart(full, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>Keeps the GetObject response alive as long as its body stream is read.</summary>
    private sealed class ResponseStream : IO.ReadOnlyStream
    {
        private readonly GetObjectResponse _response;

        public ResponseStream(GetObjectResponse response) => _response = response;

        public override long Length => _response.ContentLength;

        public override int Read(byte[] buffer, int offset, int count) => _response.ResponseStream.Read(buffer, offset, count);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await _response.ResponseStream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new EcomDrException(ErrorIds.StoreUnavailable, FailureKind.ResourceUnavailable, $"Reading {_response.Key} broke off: {ex.Message}", _response.Key, ex);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _response.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
