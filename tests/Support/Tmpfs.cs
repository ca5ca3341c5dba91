using System.Diagnostics;

namespace Koalja.Testing;

/// <summary>
/// A small RAM file system mounted on a folder, to fill up on purpose: a real ENOSPC, as a user's full disk gives it.
/// Mounting needs root (or a mount namespace); <see cref="CannotMount"/> says why it cannot be had here.
/// </summary>
internal sealed class Tmpfs : IDisposable
{
    private static readonly Lazy<string?> Probe = new(() =>
    {
        var dir = Directory.CreateTempSubdirectory("koalja-tmpfs-probe-").FullName;
        try
        {
            var (code, output) = Run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir);
            if (code != 0)
            {
                return $"mount -t tmpfs failed ({output.Trim()})";
            }

            Run("umount", dir);
            return null;
        }
        finally
        {
            Directory.Delete(dir);
        }
    });

    public Tmpfs(string path, int kilobytes)
    {
        Path = Directory.CreateDirectory(path).FullName;
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={kilobytes}k,mode=0700", "tmpfs", Path);
        if (code != 0)
        {
            throw new InvalidOperationException($"mount tmpfs on {Path}: {output}");
        }
    }

    /// <summary>Why a tmpfs cannot be mounted here, or null when it can.</summary>
    public static string? CannotMount => Probe.Value;

    public string Path { get; }

    /// <summary>Fills what is left with a file (<c>filler</c>), written until the file system refuses more.</summary>
    public string Fill()
    {
        var filler = System.IO.Path.Combine(Path, "filler");
        var chunk = new byte[4096];
        using var stream = new FileStream(filler, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        try
        {
            while (true)
            {
                stream.Write(chunk);
            }
        }
        catch (IOException)
        {
            // full
        }

        return filler;
    }

    public void Dispose() => Run("umount", "-l", Path);

    private static (int Code, string Output) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}

/// <summary>A fact that fills a disk on purpose: skipped, saying why, where no tmpfs can be mounted.</summary>
internal sealed class TmpfsFactAttribute : Xunit.FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (Tmpfs.CannotMount is { } why)
        {
            Skip = "This machine cannot mount a tmpfs to fill: " + why;
        }
    }
}
