using System.Runtime.InteropServices;

namespace Koalja.Tasks;

/// <summary>How many names a file has (its hard link count), read without following a symbolic link.</summary>
internal static partial class FileLinks
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxNlink = 0x4;

    /// <summary>
    /// The file's link count, or null where it cannot be read (not Linux, no statx): callers then treat the file as
    /// possibly shared. <c>statx</c>'s buffer has one layout on every architecture: <c>stx_nlink</c> is the 32-bit
    /// field at offset 16.
    /// </summary>
    public static uint? Count(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var buffer = new byte[256];
        try
        {
            if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxNlink, buffer) != 0 || (BitConverter.ToUInt32(buffer, 0) & StatxNlink) == 0)
            {
                return null;
            }
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }

        return BitConverter.ToUInt32(buffer, 16);
    }

    /// <summary>A plain file with this one name: safe to write in place (not a symbolic link, not a hard link to a file elsewhere).</summary>
    public static bool IsSoleName(FileSystemInfo entry) => entry is FileInfo && entry.LinkTarget is null && Count(entry.FullName) == 1;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, [Out] byte[] buffer);
}
