namespace Koalja.Functions.Tests;

/// <summary>Processes by what /proc says about them (Linux).</summary>
internal static class Processes
{
    /// <summary>True while the process exists and is not a zombie.</summary>
    public static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }
    }

    /// <summary>Waits for a process whose command line holds <paramref name="marker"/>, and returns its id.</summary>
    public static async Task<int> WaitForAsync(string marker, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), out var pid) && CommandLine(pid).Contains(marker, StringComparison.Ordinal))
                {
                    return pid;
                }
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No process with '{marker}' on its command line appeared within {timeout}.");
    }

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
