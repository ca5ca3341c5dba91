using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Koalja.Storage;

/// <summary>Where an S3 store keeps content, and how to reach it.</summary>
public sealed record S3StoreOptions
{
    public required string Bucket { get; init; }

    public string Prefix { get; init; } = "";

    /// <summary>An S3-compatible server (Ceph RGW, MinIO, ...); null for AWS itself.</summary>
    public Uri? Endpoint { get; init; }

    public string Region { get; init; } = "us-east-1";

    /// <summary>Path-style addressing (<c>host/bucket/key</c>), which most S3-compatible servers need.</summary>
    public bool ForcePathStyle { get; init; }

    /// <summary>Explicit credentials; null uses the usual AWS sources (environment, profile, instance role).</summary>
    public AWSCredentials? Credentials { get; init; }

    /// <summary>The size of each part of a multipart upload: the memory one upload holds.</summary>
    public int PartSize { get; init; } = 8 << 20;
}

/// <summary>
/// Content-addressed storage in an S3 bucket, under <c>{prefix}sha256/ab/{hex}</c>. Content is streamed: a part at a
/// time is held in memory and hashed while it is sent. Content that fits in one part is put at its address at once;
/// larger content goes up as a multipart upload to a temporary key and is then copied to its address on the server
/// (and the temporary object removed), since the address is known only at the end. Reads are checked against the
/// address. Works with servers that check request signatures and know no trailing checksums (Ceph RGW).
/// </summary>
public sealed class S3ArtifactStore : IArtifactStore, IDisposable
{
    /// <summary>The largest object one CopyObject request copies; above it the copy is a multipart copy.</summary>
    private const long MaxSingleCopy = 5L << 30;
    private const long CopyPartSize = 512L << 20;

    private readonly AmazonS3Client _s3;
    private readonly S3StoreOptions _options;
    private readonly string _prefix;

    public S3ArtifactStore(S3StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _prefix = ContentAddress.NormalisePrefix(options.Prefix);
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            AuthenticationRegion = options.Region,
            MaxErrorRetry = 4,
            Timeout = TimeSpan.FromMinutes(5),
        };
        if (options.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint.ToString();
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        }

        _s3 = options.Credentials is { } credentials ? new AmazonS3Client(credentials, config) : new AmazonS3Client(config);
    }

    public string Describe => $"s3://{_options.Bucket}/{_prefix}{(_options.Endpoint is { } e ? $" at {e}" : "")}";

    /// <summary>Checks that the bucket can be reached with these credentials; the message says what is wrong.</summary>
    public async Task CheckAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = _prefix, MaxKeys = 1 }, cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "NoSuchBucket")
        {
            throw new StorageUnavailableException($"The bucket '{_options.Bucket}' does not exist on {Server}; create it first");
        }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            throw new StorageUnavailableException($"{Server} refused the credentials for bucket '{_options.Bucket}' ({e.ErrorCode}: {e.Message}); check the access key and secret (S3_ACCESS_KEY and S3_SECRET_KEY, or the AWS credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, profiles)");
        }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException or AmazonClientException)
        {
            throw new StorageUnavailableException($"Cannot reach {Server} for bucket '{_options.Bucket}': {e.Message}");
        }
    }

    private string Server => _options.Endpoint?.ToString() ?? $"S3 in {_options.Region}";

    public async Task<StoredArtifact> PutAsync(Stream content, long maxBytes = long.MaxValue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var buffer = ArrayPool<byte>.Shared.Rent(_options.PartSize);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        string? temporary = null;
        string? uploadId = null;
        try
        {
            var filled = await StoreFiles.FillAsync(content, buffer, _options.PartSize, cancellationToken);
            long size = filled;
            StoreFiles.CheckLimit(size, maxBytes);
            hash.AppendData(buffer, 0, filled);
            if (filled < _options.PartSize)
            {
                var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (!await ExistsAsync(sha, cancellationToken))
                {
                    await PutObjectAsync(ContentAddress.Key(_prefix, sha), buffer, filled, cancellationToken);
                }

                return new StoredArtifact(sha, size);
            }

            temporary = ContentAddress.TemporaryKey(_prefix);
            uploadId = (await _s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _options.Bucket, Key = temporary }, cancellationToken)).UploadId;
            var parts = new List<PartETag>();
            while (filled > 0)
            {
                parts.Add(new PartETag(parts.Count + 1, await UploadPartAsync(temporary, uploadId, parts.Count + 1, buffer, filled, cancellationToken)));
                filled = await StoreFiles.FillAsync(content, buffer, _options.PartSize, cancellationToken);
                size += filled;
                StoreFiles.CheckLimit(size, maxBytes);
                hash.AppendData(buffer, 0, filled);
            }

            await _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = _options.Bucket, Key = temporary, UploadId = uploadId, PartETags = parts }, cancellationToken);
            uploadId = null;
            var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (!await ExistsAsync(sha256, cancellationToken))
            {
                await CopyAsync(temporary, ContentAddress.Key(_prefix, sha256), size, cancellationToken);
            }

            return new StoredArtifact(sha256, size);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            await CleanUpAsync(temporary, uploadId);
        }
    }

    public async Task<Stream> OpenReadAsync(string sha256, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await _s3.GetObjectAsync(_options.Bucket, ContentAddress.Key(_prefix, sha256), cancellationToken);
            return new VerifyingReadStream(response.ResponseStream, sha256, response.ContentLength, response);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new ArtifactNotFoundException(sha256);
        }
    }

    public async Task<bool> ExistsAsync(string sha256, CancellationToken cancellationToken = default)
    {
        try
        {
            await _s3.GetObjectMetadataAsync(_options.Bucket, ContentAddress.Key(_prefix, sha256), cancellationToken);
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public async Task<bool> DeleteAsync(string sha256, CancellationToken cancellationToken = default)
    {
        if (!await ExistsAsync(sha256, cancellationToken))
        {
            return false; // S3 answers a delete of nothing with success too
        }

        await _s3.DeleteObjectAsync(_options.Bucket, ContentAddress.Key(_prefix, sha256), cancellationToken);
        return true;
    }

    public Task MaterializeAsync(string sha256, string destination, CancellationToken cancellationToken = default) =>
        StoreFiles.MaterializeAsync(this, sha256, destination, cancellationToken);

    public void Dispose() => _s3.Dispose();

    private async Task PutObjectAsync(string key, byte[] buffer, int count, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream(buffer, 0, count, writable: false);
        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = _options.Bucket, Key = key, InputStream = body, AutoCloseStream = false, UseChunkEncoding = false }, cancellationToken);
    }

    private async Task<string> UploadPartAsync(string key, string uploadId, int number, byte[] buffer, int count, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream(buffer, 0, count, writable: false);
        var response = await _s3.UploadPartAsync(new UploadPartRequest
        {
            BucketName = _options.Bucket,
            Key = key,
            UploadId = uploadId,
            PartNumber = number,
            PartSize = count,
            InputStream = body,
            UseChunkEncoding = false,
        }, cancellationToken);
        return response.ETag;
    }

    /// <summary>A server-side copy: one request up to 5 GiB, a multipart copy above.</summary>
    private async Task CopyAsync(string source, string destination, long size, CancellationToken cancellationToken)
    {
        if (size <= MaxSingleCopy)
        {
            await _s3.CopyObjectAsync(new CopyObjectRequest { SourceBucket = _options.Bucket, SourceKey = source, DestinationBucket = _options.Bucket, DestinationKey = destination }, cancellationToken);
            return;
        }

        var uploadId = (await _s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _options.Bucket, Key = destination }, cancellationToken)).UploadId;
        try
        {
            var parts = new List<PartETag>();
            for (long first = 0; first < size; first += CopyPartSize)
            {
                var part = await _s3.CopyPartAsync(new CopyPartRequest
                {
                    SourceBucket = _options.Bucket,
                    SourceKey = source,
                    DestinationBucket = _options.Bucket,
                    DestinationKey = destination,
                    UploadId = uploadId,
                    PartNumber = parts.Count + 1,
                    FirstByte = first,
                    LastByte = Math.Min(size, first + CopyPartSize) - 1,
                }, cancellationToken);
                parts.Add(new PartETag(parts.Count + 1, part.ETag));
            }

            await _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = _options.Bucket, Key = destination, UploadId = uploadId, PartETags = parts }, cancellationToken);
        }
        catch
        {
            await _s3.AbortMultipartUploadAsync(_options.Bucket, destination, uploadId, CancellationToken.None);
            throw;
        }
    }

    /// <summary>Removes what a put leaves behind (an unfinished upload, the temporary object), also when it failed or was cancelled.</summary>
    private async Task CleanUpAsync(string? temporary, string? uploadId)
    {
        if (temporary is null)
        {
            return;
        }

        try
        {
            if (uploadId is not null)
            {
                await _s3.AbortMultipartUploadAsync(_options.Bucket, temporary, uploadId, CancellationToken.None);
            }
            else
            {
                await _s3.DeleteObjectAsync(_options.Bucket, temporary, CancellationToken.None);
            }
        }
        catch (AmazonServiceException)
        {
            // a leftover under tmp/ wastes space but is never read
        }
    }


}
