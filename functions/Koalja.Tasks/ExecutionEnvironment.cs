using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Koalja.Tasks;

/// <summary>
/// Where a command ran, recorded with its execution for provenance: the host and operating system, the image the
/// executor names (this runtime runs the command on its own host, not in that image), the program started (resolved
/// through PATH and links, e.g. /bin/sh → /usr/bin/dash) and, for the interpreters that tell, their version (asked
/// once per process and program).
/// </summary>
internal static class ExecutionEnvironment
{
    private static readonly ConcurrentDictionary<string, string?> Versions = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string?> Programs = new(StringComparer.Ordinal);
    private static readonly string[] Versioned = ["python3", "python", "ruby", "perl", "node", "Rscript"];

    public static IReadOnlyDictionary<string, string> Of(IReadOnlyList<string> arguments, string? image)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = Environment.MachineName,
            ["os"] = RuntimeInformation.OSDescription,
        };
        if (image is { Length: > 0 })
        {
            environment["image.named"] = image;
        }

        // The program a name starts is looked up once per process (PATH and links do not change under it), not per execution.
        if (arguments.Count > 0 && Programs.GetOrAdd(arguments[0], Resolve) is { } program)
        {
            environment["program"] = program;
            if (Versioned.Contains(Path.GetFileName(arguments[0])) && Versions.GetOrAdd(program, Ask) is { } version)
            {
                environment["program.version"] = version;
            }
        }

        return environment;
    }

    /// <summary>The file a program name starts: an absolute path, or the first match on PATH, with links followed.</summary>
    private static string? Resolve(string name)
    {
        var path = Path.IsPathRooted(name) ? name
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
        if (path is null || !File.Exists(path))
        {
            return null;
        }

        try
        {
            return new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
        }
        catch (IOException)
        {
            return path;
        }
    }

    /// <summary>The first line of <c>PROGRAM --version</c> (stdout or stderr), or null if it does not answer within 5 s.</summary>
    private static string? Ask(string program)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(program, "--version") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(5000))
            {
                process.Kill(entireProcessTree: true);
                return null;
            }

            var line = (output.Result.Length > 0 ? output.Result : error.Result).Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim();
            return line is { Length: > 0 } ? line[..Math.Min(line.Length, 200)] : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
