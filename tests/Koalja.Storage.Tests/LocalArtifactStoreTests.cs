using System.Security.Cryptography;
using Koalja.Storage;

namespace Koalja.Core.Tests.Storage;

public sealed class LocalArtifactStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("koalja-store-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ContentIsStoredUnderItsSha256AndReadBack()
    {
        var store = new LocalArtifactStore(_dir);
        var bytes = "hello\n"u8.ToArray();

        var stored = await store.PutAsync(new MemoryStream(bytes));

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), stored.Sha256);
        Assert.Equal(6, stored.Size);
        Assert.Equal($"sha256:{stored.Sha256}", stored.Uri);
        await using var read = await store.OpenReadAsync(stored.Sha256);
        using var copy = new MemoryStream();
        await read.CopyToAsync(copy);
        Assert.Equal(bytes, copy.ToArray());
    }

    [Fact]
    public async Task EqualContentIsStoredOnce()
    {
        var store = new LocalArtifactStore(_dir);

        var first = await store.PutAsync(new MemoryStream("same"u8.ToArray()));
        var second = await store.PutAsync(new MemoryStream("same"u8.ToArray()));

        Assert.Equal(first, second);
        Assert.Single(Directory.GetFiles(Path.Combine(_dir, "sha256"), "*", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "tmp")));
    }

    [Fact]
    public async Task ContentOverTheLimitIsRefusedAndLeavesNothingBehind()
    {
        var store = new LocalArtifactStore(_dir);

        await Assert.ThrowsAsync<ArtifactTooLargeException>(() => store.PutAsync(new MemoryStream(new byte[1000]), maxBytes: 999));

        Assert.Empty(Directory.GetFiles(_dir, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task MissingAndCorruptContentAreReported()
    {
        var store = new LocalArtifactStore(_dir);
        var stored = await store.PutAsync(new MemoryStream("data"u8.ToArray()));
        await File.WriteAllTextAsync(store.PathOf(stored.Sha256), "tampered");

        await Assert.ThrowsAsync<ArtifactCorruptException>(() => store.VerifyAsync(stored.Sha256));
        await Assert.ThrowsAsync<ArtifactNotFoundException>(() => store.OpenReadAsync(new string('0', 64)));
        Assert.Throws<ArgumentException>(() => store.PathOf("../../etc/passwd"));
    }

    [Fact]
    public async Task AMaterialisedCopyCanBeChangedWithoutTouchingTheStore()
    {
        var store = new LocalArtifactStore(_dir);
        var stored = await store.PutAsync(new MemoryStream("original"u8.ToArray()));
        var copy = Path.Combine(_dir, "work", "input");

        await store.MaterializeAsync(stored.Sha256, copy);
        await File.AppendAllTextAsync(copy, " changed");

        await store.VerifyAsync(stored.Sha256);
    }
}
