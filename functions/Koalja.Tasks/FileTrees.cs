using System.Runtime.InteropServices;
using System.Text;

namespace Koalja.Tasks;

/// <summary>
/// Removes a directory tree whatever its entries are named. A command can make names that are not UTF-8 (any bytes
/// but <c>/</c> and NUL): .NET shows those with U+FFFD in place of the bytes it cannot decode, and cannot delete them by
/// that name (<see cref="File.Delete"/> finds nothing there and says nothing; <see cref="Directory.Delete(string, bool)"/>
/// then fails with "Directory not empty"). Here names stay bytes: each directory is read with <c>readdir</c> and its
/// entries are removed relative to its descriptor (<c>unlinkat</c>), opened with <c>O_NOFOLLOW</c>, so a symbolic link
/// is removed, never followed.
/// </summary>
public static partial class FileTrees
{
    private const int OpenDirectory = 0x10000; // O_DIRECTORY on x64 (arm64: 0x4000, see DirectoryFlags)
    private const int OpenNoFollow = 0x20000;  // O_NOFOLLOW on x64 (arm64: 0x8000)
    private const int OpenCloseOnExec = 0x80000;
    private const int RemoveDirectoryFlag = 0x200; // AT_REMOVEDIR
    private const int AtFdCwd = -100;
    private const int IsDirectoryError = 21; // EISDIR
    private const int NotFoundError = 2; // ENOENT
    private const int NameOffset = 19; // struct dirent: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name, on 64-bit glibc and musl

    /// <summary>Whether a name .NET gave could have lost bytes (it has U+FFFD): such an entry can only be removed here.</summary>
    public static bool MayNotBeUtf8(string name) => name.Contains('\uFFFD', StringComparison.Ordinal);

    /// <summary>Removes <paramref name="directory"/> and all in it (a symbolic link there: the link). Throws <see cref="IOException"/> with the system's reason when something stays.</summary>
    public static void Remove(string directory)
    {
        if (new DirectoryInfo(directory).LinkTarget is not null)
        {
            File.Delete(directory);
            return;
        }

        if (!OperatingSystem.IsLinux() || !Environment.Is64BitProcess)
        {
            Directory.Delete(directory, recursive: true);
            return;
        }

        var path = Encoding.UTF8.GetBytes(directory + "\0");
        var fd = OpenAt(AtFdCwd, path, DirectoryFlags(), 0);
        if (fd < 0)
        {
            var error = Marshal.GetLastPInvokeError();
            if (error == NotFoundError)
            {
                return;
            }

            throw Failure("open", directory, error);
        }

        Empty(fd, directory); // closes fd
        if (UnlinkAt(AtFdCwd, path, RemoveDirectoryFlag) != 0 && Marshal.GetLastPInvokeError() is var e && e != NotFoundError)
        {
            throw Failure("remove", directory, e);
        }
    }

    /// <summary>Removes everything in the directory open as <paramref name="fd"/> (which this closes).</summary>
    private static void Empty(int fd, string shown)
    {
        var stream = FdOpenDir(fd);
        if (stream == IntPtr.Zero)
        {
            var error = Marshal.GetLastPInvokeError();
            _ = Close(fd);
            throw Failure("read", shown, error);
        }

        try
        {
            // Removing while reading may make readdir skip an entry: read again until a pass removes nothing.
            bool removed;
            do
            {
                removed = false;
                RewindDir(stream);
                while (ReadDir(stream) is var entry && entry != IntPtr.Zero)
                {
                    var name = NameOf(entry);
                    if (name is [(byte)'.'] or [(byte)'.', (byte)'.'])
                    {
                        continue;
                    }

                    RemoveEntry(fd, name, shown);
                    removed = true;
                }
            }
            while (removed);
        }
        finally
        {
            _ = CloseDir(stream);
        }
    }

    private static void RemoveEntry(int parent, byte[] name, string shown)
    {
        var terminated = new byte[name.Length + 1];
        name.CopyTo(terminated, 0);
        var what = Path.Combine(shown, Encoding.UTF8.GetString(name));
        if (UnlinkAt(parent, terminated, 0) == 0)
        {
            return;
        }

        var error = Marshal.GetLastPInvokeError();
        if (error == NotFoundError)
        {
            return;
        }

        if (error != IsDirectoryError)
        {
            throw Failure("remove", what, error);
        }

        var fd = OpenAt(parent, terminated, DirectoryFlags(), 0);
        if (fd < 0)
        {
            throw Failure("open", what, Marshal.GetLastPInvokeError());
        }

        Empty(fd, what);
        if (UnlinkAt(parent, terminated, RemoveDirectoryFlag) != 0 && Marshal.GetLastPInvokeError() is var e && e != NotFoundError)
        {
            throw Failure("remove", what, e);
        }
    }

    private static byte[] NameOf(IntPtr entry)
    {
        var length = 0;
        while (Marshal.ReadByte(entry, NameOffset + length) != 0)
        {
            length++;
        }

        var name = new byte[length];
        Marshal.Copy(entry + NameOffset, name, 0, length);
        return name;
    }

    private static int DirectoryFlags() =>
        RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x4000 | 0x8000 | OpenCloseOnExec : OpenDirectory | OpenNoFollow | OpenCloseOnExec;

    private static IOException Failure(string action, string path, int error) =>
        new($"Cannot {action} {path}: {Marshal.GetPInvokeErrorMessage(error)}");

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true)]
    private static partial int OpenAt(int dirfd, byte[] path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true)]
    private static partial int UnlinkAt(int dirfd, byte[] path, int flags);

    [LibraryImport("libc", EntryPoint = "fdopendir", SetLastError = true)]
    private static partial IntPtr FdOpenDir(int fd);

    [LibraryImport("libc", EntryPoint = "readdir", SetLastError = true)]
    private static partial IntPtr ReadDir(IntPtr stream);

    [LibraryImport("libc", EntryPoint = "rewinddir")]
    private static partial void RewindDir(IntPtr stream);

    [LibraryImport("libc", EntryPoint = "closedir")]
    private static partial int CloseDir(IntPtr stream);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
