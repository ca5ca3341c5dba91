using Amazon.S3;
using Amazon.S3.Model;
using Azure.Storage.Blobs;

namespace Koalja.Storage.Tests;

public sealed class LocalArtifactStoreContractTests : ArtifactStoreContractTests, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("koalja-store-").FullName;
    private readonly LocalArtifactStore _store;

    public LocalArtifactStoreContractTests() => _store = new LocalArtifactStore(_dir);

    private protected override IArtifactStore Store => _store;

    private protected override int PartSize => 128 * 1024;

    private protected override Task TamperAsync(string sha256, byte[] other) => File.WriteAllBytesAsync(_store.PathOf(sha256), other);

    private protected override Task<int> LeftoversAsync() => Task.FromResult(Directory.GetFiles(Path.Combine(_dir, "tmp")).Length);

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

public sealed class S3ArtifactStoreContractTests : ArtifactStoreContractTests, IDisposable
{
    private readonly string _prefix = $"contract-{Guid.NewGuid():N}/";
    private readonly S3ArtifactStore _store;
    private readonly AmazonS3Client _client = TestBuckets.S3Client();

    public S3ArtifactStoreContractTests() => _store = new S3ArtifactStore(TestBuckets.S3Options(_prefix) with { PartSize = 5 << 20 });

    private protected override IArtifactStore Store => _store;

    private protected override int PartSize => 5 << 20;

    private protected override async Task TamperAsync(string sha256, byte[] other) =>
        await _client.PutObjectAsync(new PutObjectRequest { BucketName = TestBuckets.Bucket, Key = $"{_prefix}sha256/{sha256[..2]}/{sha256}", InputStream = new MemoryStream(other), UseChunkEncoding = false });

    private protected override async Task<int> LeftoversAsync()
    {
        var objects = await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = TestBuckets.Bucket, Prefix = _prefix + "tmp/" });
        var uploads = await _client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = TestBuckets.Bucket, Prefix = _prefix });
        return (objects.S3Objects?.Count ?? 0) + (uploads.MultipartUploads?.Count ?? 0);
    }

    public void Dispose()
    {
        _store.Dispose();
        _client.Dispose();
    }
}

public sealed class BlobArtifactStoreContractTests : ArtifactStoreContractTests
{
    private readonly string _prefix = $"contract-{Guid.NewGuid():N}/";
    private readonly BlobContainerClient _container = TestBuckets.Container();

    private protected override IArtifactStore Store => new BlobArtifactStore(_container, _prefix, PartSize);

    private protected override int PartSize => 1 << 20;

    private protected override async Task TamperAsync(string sha256, byte[] other) =>
        await _container.GetBlobClient($"{_prefix}sha256/{sha256[..2]}/{sha256}").UploadAsync(new BinaryData(other), overwrite: true);

    private protected override async Task<int> LeftoversAsync()
    {
        var count = 0;
        await foreach (var _ in _container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, _prefix + "tmp/", CancellationToken.None))
        {
            count++;
        }

        return count;
    }
}

/// <summary>The bucket and container the tests use on the test servers (made once per test process).</summary>
internal static class TestBuckets
{
    public const string Bucket = "koalja-tests";
    public const string ContainerName = "koalja-tests";

    private static readonly Lazy<BlobContainerClient> ContainerMade = new(() =>
    {
        var container = new BlobContainerClient(Testing.TestServers.Azure, ContainerName);
        container.CreateIfNotExists();
        return container;
    });

    public static S3StoreOptions S3Options(string prefix)
    {
        Testing.TestS3.BucketAsync(Bucket).GetAwaiter().GetResult();
        return new S3StoreOptions { Bucket = Bucket, Prefix = prefix, Endpoint = new Uri(Testing.TestServers.S3("ENDPOINT")), ForcePathStyle = true, Credentials = Testing.TestS3.Credentials };
    }

    public static AmazonS3Client S3Client() => Testing.TestS3.Client();

    public static BlobContainerClient Container() => ContainerMade.Value;
}
