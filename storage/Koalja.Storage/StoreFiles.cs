
namespace Koalja.Storage;

/// <summary>What remote stores share: reading content a part at a time, its limit, and making stored content a local file.</summary>
internal static class StoreFiles
{
    /// <summary>Reads until <paramref name="count"/> bytes or the end of the stream.</summary>
    public static async Task<int> FillAsync(Stream content, byte[] buffer, int count, CancellationToken cancellationToken)
    {
        var filled = 0;
        int read;
        while (filled < count && (read = await content.ReadAsync(buffer.AsMemory(filled, count - filled), cancellationToken)) > 0)
        {
            filled += read;
        }

        return filled;
    }

    /// <exception cref="ArtifactTooLargeException">More than <paramref name="maxBytes"/> were offered.</exception>
    public static void CheckLimit(long size, long maxBytes)
    {
        if (size > maxBytes)
        {
            throw new ArtifactTooLargeException(maxBytes);
        }
    }

    public static async Task MaterializeAsync(IArtifactStore store, string sha256, string destination, CancellationToken cancellationToken)
    {
        await using var input = await store.OpenReadAsync(sha256, cancellationToken);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        var temp = destination + ".part";
        try
        {
            await using (var output = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await input.CopyToAsync(output, 1 << 20, cancellationToken);
            }

            File.Move(temp, destination, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
