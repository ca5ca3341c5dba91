using System.Security.Cryptography;

namespace Koalja.Storage.Tests;

/// <summary>What every artifact store must do the same way; run against the local directory, S3 (Ceph RGW) and Azure Blob (Azurite).</summary>
public abstract class ArtifactStoreContractTests
{
    /// <summary>The store under test; its part (or block) size is <see cref="PartSize"/>, so content past it takes the multipart path.</summary>
    private protected abstract IArtifactStore Store { get; }

    private protected abstract int PartSize { get; }

    /// <summary>Replaces the stored bytes of <paramref name="sha256"/> behind the store's back.</summary>
    private protected abstract Task TamperAsync(string sha256, byte[] other);

    /// <summary>Objects left under the store's temporary prefix.</summary>
    private protected abstract Task<int> LeftoversAsync();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(-1)] // exactly one part
    [InlineData(-2)] // several parts and a short last one
    public async Task ContentRoundTripsUnderItsSha256(int length)
    {
        var bytes = Bytes(length switch { -1 => PartSize, -2 => PartSize * 2 + 12345, _ => length });

        var stored = await Store.PutAsync(new MemoryStream(bytes));

        Assert.Equal((Convert.ToHexStringLower(SHA256.HashData(bytes)), (long)bytes.Length), (stored.Sha256, stored.Size));
        Assert.True(await Store.ExistsAsync(stored.Sha256));
        Assert.Equal(bytes, await ReadAllAsync(stored.Sha256));
        Assert.Equal(0, await LeftoversAsync());
    }

    [Fact]
    public async Task EqualContentIsStoredOnceWhateverItsSize()
    {
        var small = Bytes(100);
        var large = Bytes(PartSize + 1);

        var (first, second) = (await Store.PutAsync(new MemoryStream(small)), await Store.PutAsync(new MemoryStream(small)));
        var (third, fourth) = (await Store.PutAsync(new MemoryStream(large)), await Store.PutAsync(new MemoryStream(large)));

        Assert.Equal(first, second);
        Assert.Equal(third, fourth);
        Assert.Equal(large, await ReadAllAsync(third.Sha256));
        Assert.Equal(0, await LeftoversAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ContentOverTheLimitIsRefusedAndLeavesNothing(bool multipart)
    {
        var bytes = Bytes(multipart ? PartSize * 2 + 1 : 1000);

        await Assert.ThrowsAsync<ArtifactTooLargeException>(() => Store.PutAsync(new MemoryStream(bytes), maxBytes: bytes.Length - 1));

        Assert.False(await Store.ExistsAsync(Convert.ToHexStringLower(SHA256.HashData(bytes))));
        Assert.Equal(0, await LeftoversAsync());
    }

    [Fact]
    public async Task AStreamThatFailsHalfWayStoresNothing()
    {
        var bytes = Bytes(PartSize * 2 + 1);

        await Assert.ThrowsAsync<IOException>(() => Store.PutAsync(new FailingStream(bytes, failAfter: PartSize + 10)));

        Assert.False(await Store.ExistsAsync(Convert.ToHexStringLower(SHA256.HashData(bytes))));
        Assert.Equal(0, await LeftoversAsync());
    }

    [Fact]
    public async Task DeletedContentIsGoneAndOtherContentStays()
    {
        var gone = await Store.PutAsync(new MemoryStream(Bytes(PartSize + 7)));
        var kept = await Store.PutAsync(new MemoryStream(Bytes(10)));

        Assert.True(await Store.DeleteAsync(gone.Sha256));
        Assert.False(await Store.ExistsAsync(gone.Sha256));
        await Assert.ThrowsAsync<ArtifactNotFoundException>(() => Store.OpenReadAsync(gone.Sha256));
        Assert.False(await Store.DeleteAsync(gone.Sha256));
        Assert.Equal(Bytes(10), await ReadAllAsync(kept.Sha256));
        Assert.Equal(gone.Sha256, (await Store.PutAsync(new MemoryStream(Bytes(PartSize + 7)))).Sha256); // stored again afresh
        Assert.True(await Store.ExistsAsync(gone.Sha256));
    }

    [Fact]
    public async Task MissingContentIsNotFound()
    {
        var missing = new string('0', 64);

        Assert.False(await Store.ExistsAsync(missing));
        await Assert.ThrowsAsync<ArtifactNotFoundException>(() => Store.OpenReadAsync(missing));
        await Assert.ThrowsAsync<ArtifactNotFoundException>(() => Store.MaterializeAsync(missing, Path.Combine(Path.GetTempPath(), "koalja-missing-" + Guid.NewGuid())));
    }

    [Fact]
    public async Task ContentThatChangedInTheStoreIsReportedAsCorruptWhenRead()
    {
        var stored = await Store.PutAsync(new MemoryStream("the original content"u8.ToArray()));

        await TamperAsync(stored.Sha256, "tampered content!!!!"u8.ToArray());

        var error = await Assert.ThrowsAsync<ArtifactCorruptException>(() => ReadAllAsync(stored.Sha256));
        Assert.Contains(stored.Sha256, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaterializedContentIsAFileOfItsOwn()
    {
        var bytes = Bytes(PartSize + 7);
        var stored = await Store.PutAsync(new MemoryStream(bytes));
        var file = Path.Combine(Path.GetTempPath(), "koalja-materialize-" + Guid.NewGuid().ToString("N"), "input");
        try
        {
            await Store.MaterializeAsync(stored.Sha256, file);
            Assert.Equal(bytes, await File.ReadAllBytesAsync(file));
            await File.AppendAllTextAsync(file, "changed");
            Assert.Equal(bytes, await ReadAllAsync(stored.Sha256));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
        }
    }

    private async Task<byte[]> ReadAllAsync(string sha256)
    {
        await using var stream = await Store.OpenReadAsync(sha256);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private static byte[] Bytes(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Gives its bytes, then fails with an IOException, as a broken upload does.</summary>
    private sealed class FailingStream(byte[] bytes, int failAfter) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => Position >= failAfter ? throw new IOException("connection reset") : base.Read(buffer, offset, Math.Min(count, failAfter - (int)Position));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Position >= failAfter ? throw new IOException("connection reset") : base.ReadAsync(buffer[..Math.Min(buffer.Length, failAfter - (int)Position)], cancellationToken);
    }
}
