using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Koalja.Tasks.Sandboxing;

/// <summary>Whether commands run in a sandbox.</summary>
public enum SandboxMode
{
    /// <summary>In a sandbox where bubblewrap can make one; elsewhere unsandboxed, with a loud warning.</summary>
    Auto,

    /// <summary>Always in a sandbox: a runtime that cannot make one refuses to start.</summary>
    Required,

    /// <summary>Never (where something else isolates the commands: on Kubernetes, the task's container).</summary>
    Off,
}

/// <summary>
/// How this runtime makes its sandboxes: bubblewrap's path, what it binds and hides, and the program it starts inside
/// (<c>dotnet exec Koalja.Sandbox.dll</c>, with the runtime this process runs on). Found once per runtime by
/// <see cref="Find"/>, which also tries one sandbox, so that a machine where bubblewrap cannot work (no user
/// namespaces, as in some containers) is told at start, not at the first execution.
/// </summary>
internal sealed class SandboxPlan
{
    private readonly string _dotnet;
    private readonly string _launcher;
    private readonly IReadOnlyList<string> _hidden;
    private readonly IReadOnlyList<string> _secret;
    private readonly string? _code;
    private readonly bool _network;

    private SandboxPlan(string bubblewrap, string dotnet, string launcher, IReadOnlyList<string> hidden, IReadOnlyList<string> secret, string? code, bool network)
    {
        Bubblewrap = bubblewrap;
        _dotnet = dotnet;
        _launcher = launcher;
        _hidden = hidden;
        _secret = secret;
        _code = code;
        _network = network;
    }

    public string Bubblewrap { get; }

    /// <summary>What the program in a sandbox runs with: no diagnostics socket or dumps, a small heap.</summary>
    public static readonly IReadOnlyList<KeyValuePair<string, string>> LauncherEnvironment =
    [
        new("DOTNET_EnableDiagnostics", "0"),
        new("DOTNET_gcServer", "0"),
        new("DOTNET_GCgen0size", "0x400000"),
        new("DOTNET_TieredPGO", "0"),
        new("DOTNET_CLI_TELEMETRY_OPTOUT", "1"),
        new("TMPDIR", "/tmp"),
    ];

    /// <summary>The sandbox plan for these settings, or why there is none (a sentence for the warning or the error).</summary>
    public static (SandboxPlan? Plan, string Why) Find(TaskRuntimeOptions options, string codeRoot)
    {
        if (!OperatingSystem.IsLinux())
        {
            return (null, "sandboxes need Linux (bubblewrap)");
        }

        var bubblewrap = OnPath("bwrap");
        if (bubblewrap is null)
        {
            return (null, "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)");
        }

        // dotnet sits three levels above the shared framework this process runs on (<root>/shared/Microsoft.NETCore.App/<version>/).
        var framework = RuntimeEnvironment.GetRuntimeDirectory().TrimEnd(Path.DirectorySeparatorChar);
        var dotnet = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(framework))) ?? "/", "dotnet");
        var launcher = typeof(Sandbox.Program).Assembly.Location;
        if (!File.Exists(dotnet) || string.IsNullOrEmpty(launcher) || !File.Exists(Path.ChangeExtension(launcher, ".runtimeconfig.json")))
        {
            return (null, $"the sandbox program cannot be started here (no dotnet at {dotnet}, or no Koalja.Sandbox beside Koalja.Tasks)");
        }

        // One empty directory over each, but none inside another, nor in /tmp: the sandbox has a /tmp of its own.
        var wanted = new[] { options.WorkRoot }.Concat(options.SandboxHides).Select(p => Path.TrimEndingDirectorySeparator(Path.GetFullPath(p))).Distinct(StringComparer.Ordinal).ToList();
        var hidden = wanted.Where(p => !Within(p, "/tmp") && !wanted.Any(o => o != p && Within(p, o))).ToList();
        var plan = new SandboxPlan(bubblewrap, dotnet, launcher, hidden, wanted, Path.GetFullPath(codeRoot), options.SandboxNetwork);
        var tried = plan.Try();
        return tried is null ? (plan, $"bubblewrap ({bubblewrap})") : (null, $"bubblewrap cannot make a sandbox here: {tried}");
    }

    /// <summary>
    /// bubblewrap's arguments for a sandbox around <paramref name="workspace"/>, with <paramref name="scratch"/> as its /tmp,
    /// and <paramref name="pipelineFolder"/> (the folder of the pipeline file, whose scripts commands run) visible read-only.
    /// </summary>
    public IReadOnlyList<string> Arguments(string workspace, string scratch, string? pipelineFolder = null)
    {
        var arguments = new List<string>
        {
            "--ro-bind", "/", "/",
            "--dev", "/dev",
            "--proc", "/proc",
        };
        foreach (var hidden in _hidden)
        {
            arguments.AddRange(["--tmpfs", hidden]); // before the binds: what is bound below shows through again
        }

        arguments.AddRange(["--bind", scratch, "/tmp"]);

        // The whole host is visible read-only but /tmp, which is the sandbox's own: what a command needs from there (the
        // pipeline's folder, Koalja's own program in a clone or build there) is bound again, and what is hidden inside it
        // hidden again (the data directory is often in the project's folder); before the working directory and the code,
        // which may be inside it.
        var shown = ShownFromTmp(pipelineFolder);
        var rehidden = _secret.Where(s => shown.Any(f => Within(s, f) && s != f) && !_secret.Any(o => o != s && Within(s, o))).ToList();
        foreach (var folder in shown)
        {
            arguments.AddRange(["--ro-bind", folder, folder]);
        }

        foreach (var secret in rehidden)
        {
            arguments.AddRange(["--tmpfs", secret]);
        }

        arguments.AddRange(["--bind", workspace, workspace]);
        arguments.AddRange(["--ro-bind", Path.Combine(workspace, "inputs"), Path.Combine(workspace, "inputs")]);
        if (_code is not null)
        {
            arguments.AddRange(["--ro-bind", _code, _code]);
        }

        // Each would otherwise be a place that outlives an execution: /dev/shm, and the empty directories hiding what is hidden.
        arguments.AddRange(["--remount-ro", "/dev"]);
        foreach (var hidden in _hidden.Concat(rehidden))
        {
            arguments.AddRange(["--remount-ro", hidden]);
        }

        arguments.AddRange(["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]);
        if (!_network)
        {
            arguments.Add("--unshare-net");
        }

        arguments.AddRange(["--new-session", "--cap-drop", "ALL", "--hostname", "koalja-sandbox", "--chdir", workspace]);
        arguments.AddRange(["--", _dotnet, "exec", _launcher]);
        return arguments;
    }

    /// <summary>
    /// The places in <paramref name="scratch"/> (the sandbox's /tmp) where bubblewrap makes mount points: what is bound
    /// under <c>/tmp</c> (a working directory there, the code).
    /// </summary>
    public IReadOnlyList<string> MountPointsInScratch(string workspace, string scratch, string? pipelineFolder = null) =>
        [.. new[] { workspace, Path.Combine(workspace, "inputs"), _code }.Concat(ShownFromTmp(pipelineFolder))
            .Where(p => p is not null && p.StartsWith("/tmp/", StringComparison.Ordinal))
            .Select(p => Path.Combine(scratch, p!["/tmp/".Length..]))];

    /// <summary>
    /// The folders in the host's /tmp a sandbox shows read-only: the pipeline's folder, and the directories of the
    /// program run in the sandbox and of dotnet (elsewhere the host's read-only view shows them). None that is hidden,
    /// none inside another.
    /// </summary>
    private List<string> ShownFromTmp(string? pipelineFolder)
    {
        var wanted = new[] { pipelineFolder, Path.GetDirectoryName(_launcher), Path.GetDirectoryName(_dotnet) }
            .Where(f => f is not null)
            .Select(f => Path.TrimEndingDirectorySeparator(Path.GetFullPath(f!)))
            .Where(f => Within(f, "/tmp") && f != "/tmp" && Directory.Exists(f) && !_secret.Any(s => Within(f, s)))
            .Distinct(StringComparer.Ordinal).ToList();
        return [.. wanted.Where(f => !wanted.Any(o => o != f && Within(f, o)))];
    }

    /// <summary>
    /// Starts the program of the sandboxes in a sandbox like the real ones (without a working directory), and ends it
    /// by closing its input; what went wrong, or null. So a machine where bubblewrap works but the program cannot run in
    /// it (not visible there, say) is told at start.
    /// </summary>
    private string? Try()
    {
        var arguments = new List<string> { "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp" };
        foreach (var folder in ShownFromTmp(null))
        {
            arguments.AddRange(["--ro-bind", folder, folder]);
        }

        arguments.AddRange(["--unshare-pid", "--unshare-ipc", "--unshare-uts"]);
        if (!_network)
        {
            arguments.Add("--unshare-net");
        }

        arguments.AddRange(["--new-session", "--cap-drop", "ALL", "--", _dotnet, "exec", _launcher]);
        var start = new ProcessStartInfo(Bubblewrap, arguments) { RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.Environment.Clear();
        foreach (var (name, value) in LauncherEnvironment)
        {
            start.Environment[name] = value;
        }

        try
        {
            using var process = Process.Start(start)!;
            process.StandardInput.Close(); // the program ends when its input does
            var said = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                process.Kill(entireProcessTree: true);
                return "a trial sandbox did not end within 30 s";
            }

            return process.ExitCode == 0 ? null : said.Result.Trim() is { Length: > 0 } text ? $"{text} (exit code {process.ExitCode})" : $"exit code {process.ExitCode}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return e.Message;
        }
    }

    private static bool Within(string path, string directory) => path == directory || path.StartsWith(directory + "/", StringComparison.Ordinal);

    private static string? OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin")
            .Select(d => Path.Combine(d, program))
            .FirstOrDefault(File.Exists);
}

/// <summary>How a command ended: its exit code (null: it did not start, or its sandbox ended), and what went wrong besides.</summary>
internal sealed record CommandExit(int? ExitCode, string? Error, bool Permanent = false)
{
    /// <summary>The command could not be started: not found, not allowed, not a program, a path through a file are the same next time (a fork refused for want of memory or processes is not).</summary>
    public static CommandExit CannotStart(string program, int error, string message) =>
        new(null, $"Cannot start '{program}': {message}", Permanent: error is 2 or 13 or 8 or 20);
}
