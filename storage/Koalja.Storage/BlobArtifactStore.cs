using System.Buffers;
using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Sas;

namespace Koalja.Storage;

/// <summary>
/// Content-addressed storage in an Azure Blob container, under <c>{prefix}sha256/ab/{hex}</c>. Content is streamed a
/// block at a time, hashed as it is sent. Content that fits in one block is uploaded to its address at once; larger
/// content is staged as blocks of a temporary blob, committed, copied to its address on the server (and the temporary
/// blob deleted). Reads are checked against the address.
/// </summary>
public sealed class BlobArtifactStore(BlobContainerClient container, string? prefix = null, int blockSize = 8 << 20) : IArtifactStore
{
    private readonly string _prefix = ContentAddress.NormalisePrefix(prefix);

    public string Describe => $"{container.Uri}/{_prefix}";

    /// <summary>Checks that the container exists and can be reached with this credential; the message says what is wrong.</summary>
    public async Task CheckAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            if (!await container.ExistsAsync(cancellationToken))
            {
                throw new StorageUnavailableException($"The container '{container.Name}' does not exist at {container.Uri.GetLeftPart(UriPartial.Authority)}; create it first");
            }
        }
        catch (RequestFailedException e) when (e.Status is 401 or 403)
        {
            throw new StorageUnavailableException($"Azure Storage at {container.Uri.GetLeftPart(UriPartial.Authority)} refused the credential for container '{container.Name}' ({e.ErrorCode}); check the connection string or the identity's role");
        }
        catch (Exception e) when (e is RequestFailedException or AggregateException or HttpRequestException)
        {
            throw new StorageUnavailableException($"Cannot reach Azure Storage at {container.Uri.GetLeftPart(UriPartial.Authority)} for container '{container.Name}': {e.Message}");
        }
    }

    public async Task<StoredArtifact> PutAsync(Stream content, long maxBytes = long.MaxValue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var buffer = ArrayPool<byte>.Shared.Rent(blockSize);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        BlockBlobClient? temporary = null;
        try
        {
            var filled = await StoreFiles.FillAsync(content, buffer, blockSize, cancellationToken);
            long size = filled;
            StoreFiles.CheckLimit(size, maxBytes);
            hash.AppendData(buffer, 0, filled);
            if (filled < blockSize)
            {
                var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
                using var body = new MemoryStream(buffer, 0, filled, writable: false);
                await UploadIfAbsentAsync(Blob(sha), body, cancellationToken);
                return new StoredArtifact(sha, size);
            }

            temporary = container.GetBlockBlobClient(ContentAddress.TemporaryKey(_prefix));
            var blocks = new List<string>();
            while (filled > 0)
            {
                var id = Convert.ToBase64String(BitConverter.GetBytes((long)blocks.Count));
                using (var body = new MemoryStream(buffer, 0, filled, writable: false))
                {
                    await temporary.StageBlockAsync(id, body, cancellationToken: cancellationToken);
                }

                blocks.Add(id);
                filled = await StoreFiles.FillAsync(content, buffer, blockSize, cancellationToken);
                size += filled;
                StoreFiles.CheckLimit(size, maxBytes);
                hash.AppendData(buffer, 0, filled);
            }

            await temporary.CommitBlockListAsync(blocks, cancellationToken: cancellationToken);
            var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            var target = Blob(sha256);
            if (!await target.ExistsAsync(cancellationToken))
            {
                var source = temporary.CanGenerateSasUri ? temporary.GenerateSasUri(BlobSasPermissions.Read, DateTimeOffset.UtcNow.AddHours(2)) : temporary.Uri;
                var copy = await target.StartCopyFromUriAsync(source, cancellationToken: cancellationToken);
                await copy.WaitForCompletionAsync(TimeSpan.FromMilliseconds(500), cancellationToken);
            }

            return new StoredArtifact(sha256, size);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (temporary is not null)
            {
                try
                {
                    await temporary.DeleteIfExistsAsync(cancellationToken: CancellationToken.None);
                }
                catch (RequestFailedException)
                {
                    // a leftover under tmp/ wastes space but is never read
                }
            }
        }
    }

    public async Task<Stream> OpenReadAsync(string sha256, CancellationToken cancellationToken = default)
    {
        try
        {
            var download = await Blob(sha256).DownloadStreamingAsync(cancellationToken: cancellationToken);
            return new VerifyingReadStream(download.Value.Content, sha256, download.Value.Details.ContentLength, download.Value);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new ArtifactNotFoundException(sha256);
        }
    }

    public async Task<bool> ExistsAsync(string sha256, CancellationToken cancellationToken = default) => await Blob(sha256).ExistsAsync(cancellationToken);

    public async Task<bool> DeleteAsync(string sha256, CancellationToken cancellationToken = default) =>
        await Blob(sha256).DeleteIfExistsAsync(cancellationToken: cancellationToken);

    public Task MaterializeAsync(string sha256, string destination, CancellationToken cancellationToken = default) =>
        StoreFiles.MaterializeAsync(this, sha256, destination, cancellationToken);

    private BlockBlobClient Blob(string sha256) => container.GetBlockBlobClient(ContentAddress.Key(_prefix, sha256));

    private static async Task UploadIfAbsentAsync(BlockBlobClient blob, Stream body, CancellationToken cancellationToken)
    {
        try
        {
            await blob.UploadAsync(body, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // stored already: the same content
        }
    }

}
