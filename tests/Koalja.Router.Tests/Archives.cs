using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Koalja.Router.Tests;

/// <summary>Code archives in memory: a .zip or a .tar.gz of text files, by name.</summary>
internal static class Archives
{
    /// <summary>A .zip: each entry's name, and its content (null: a directory entry).</summary>
    public static byte[] Zip(params IEnumerable<(string Name, string? Content)> files)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in files)
            {
                var entry = zip.CreateEntry(name, CompressionLevel.Fastest);
                if (content is not null)
                {
                    using var writer = new StreamWriter(entry.Open());
                    writer.Write(content);
                }
            }
        }

        return buffer.ToArray();
    }

    public static byte[] TarGz(params (string Name, string Content)[] files)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip))
        {
            foreach (var (name, content) in files)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) });
            }
        }

        return buffer.ToArray();
    }
}
