using Koalja.Core.Storage;

namespace Koalja.Storage;

/// <summary>What remote stores share: making stored content a local file (checked against its address on the way).</summary>
internal static class StoreFiles
{
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
