using System.IO.Pipes;

namespace Koalja.Tasks;

/// <summary>
/// The processes that hold a command's output pipes: the command itself and whatever it started that inherited them —
/// a background job (<c>sleep 45 &amp;</c>), one in a new session (<c>(setsid sleep 40 &amp;)</c>, which leaves the
/// process tree), or one reparented after its parent exited. They are found by the pipes themselves (Linux: the pipe
/// inode under <c>/proc/PID/fd</c>), which no such trick escapes, and killed with SIGKILL.
/// </summary>
internal static class OutputHolders
{
    /// <summary>Kills every process but this one that holds one of <paramref name="pipes"/> (our read ends); how many.</summary>
    public static int Kill(params Stream[] pipes)
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0; // elsewhere only the process tree is killed
        }

        var inodes = pipes.Select(PipeOf).Where(p => p is not null).ToHashSet(StringComparer.Ordinal);
        if (inodes.Count == 0)
        {
            return 0;
        }

        var killed = 0;
        foreach (var pid in HoldersOf(inodes))
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill(); // SIGKILL
                killed++;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // gone already, or not ours to kill
            }
        }

        return killed;
    }

    private static IEnumerable<int> HoldersOf(HashSet<string?> inodes)
    {
        var self = Environment.ProcessId;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == self)
            {
                continue;
            }

            string[] fds;
            try
            {
                fds = Directory.GetFiles(Path.Combine(dir, "fd"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // gone, or not ours to see (then not ours to have started either)
            }

            if (fds.Any(fd => Target(fd) is { } target && inodes.Contains(target)))
            {
                yield return pid;
            }
        }
    }

    /// <summary><c>pipe:[12345]</c> for our end of a pipe.</summary>
    private static string? PipeOf(Stream stream)
    {
        var handle = stream switch
        {
            FileStream file => file.SafeFileHandle.DangerousGetHandle(),
            PipeStream pipe => pipe.SafePipeHandle.DangerousGetHandle(),
            _ => -1,
        };
        return handle >= 0 && Target($"/proc/self/fd/{handle}") is { } target && target.StartsWith("pipe:", StringComparison.Ordinal) ? target : null;
    }

    private static string? Target(string link)
    {
        try
        {
            return new FileInfo(link).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
