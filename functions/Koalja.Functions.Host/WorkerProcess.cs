using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Koalja.Functions.Host;

/// <summary>
/// One worker process: <c>dotnet &lt;app dll&gt; --Functions:Worker:…</c> in the app folder, its output logged line by
/// line (and the last lines kept for error messages), killed with its whole process tree when it is done with.
/// On Linux it runs in a session of its own (<c>setsid</c>), so a Ctrl+C in the host's terminal reaches the host only
/// and the host decides when the worker stops (after draining it).
/// </summary>
internal sealed partial class WorkerProcess : IDisposable
{
    private const int TailLines = 20;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _tail = new();
    private readonly Task _output;

    private WorkerProcess(Process process, ILogger log)
    {
        _process = process;
        Id = process.Id;
        Exited = WaitAsync(process);
        _output = Task.WhenAll(PumpAsync(process.StandardOutput, "stdout", LogLevel.Information, log), PumpAsync(process.StandardError, "stderr", LogLevel.Warning, log));
    }

    public int Id { get; }

    /// <summary>Completes with the exit code when the process has exited.</summary>
    public Task<int> Exited { get; }

    public static WorkerProcess Start(WorkerApp app, Uri hostEndpoint, string workerId, ILogger log)
    {
        var start = new ProcessStartInfo
        {
            WorkingDirectory = app.Directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var dotnet = DotnetPath();
        if (SetsidPath() is { } setsid)
        {
            start.FileName = setsid;
            start.ArgumentList.Add(dotnet);
        }
        else
        {
            start.FileName = dotnet;
        }

        foreach (var argument in (string[])[app.WorkerPath,
            $"--Functions:Worker:HostEndpoint={hostEndpoint.GetLeftPart(UriPartial.Authority)}",
            $"--Functions:Worker:WorkerId={workerId}",
            $"--Functions:Worker:RequestId={workerId}",
            $"--Functions:Worker:GrpcMaxMessageLength={int.MaxValue.ToString(CultureInfo.InvariantCulture)}"])
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in app.Spec.Environment)
        {
            start.Environment[name] = value;
        }

        start.Environment["FUNCTIONS_APPLICATION_DIRECTORY"] = app.Directory;
        start.Environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        start.Environment["KOALJA_HOST_PID"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Worker '{app.Name}': {start.FileName} did not start.");
        process.StandardInput.Close(); // the worker reads nothing; it must not share the host's terminal input either
        return new WorkerProcess(process, log);
    }

    /// <summary>The last lines the process wrote (stderr and stdout), waiting a little for what is still in the pipes.</summary>
    public async Task<string> OutputTailAsync()
    {
        await Task.WhenAny(_output, Task.Delay(TimeSpan.FromSeconds(1)));
        return _tail.IsEmpty ? "(it wrote nothing)" : string.Join(Environment.NewLine, _tail);
    }

    /// <summary>Kills the process and everything it started; nothing happens when it is gone already.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            // exited in between
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private static async Task<int> WaitAsync(Process process)
    {
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    private async Task PumpAsync(StreamReader reader, string stream, LogLevel level, ILogger log)
    {
        try
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                _tail.Enqueue($"{stream}: {line}");
                while (_tail.Count > TailLines && _tail.TryDequeue(out _))
                {
                }

                LogOutput(log, level, Id, stream, line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // the pipe went away with the process
        }
    }

    /// <summary>The <c>dotnet</c> that runs this process (the worker needs the same runtime), else the one on PATH.</summary>
    private static string DotnetPath()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var candidate = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return File.Exists(candidate) ? candidate : "dotnet";
    }

    private static readonly string[] SetsidPaths = ["/usr/bin/setsid", "/bin/setsid"];

    private static string? SetsidPath() => OperatingSystem.IsLinux() ? SetsidPaths.FirstOrDefault(File.Exists) : null;

    [LoggerMessage(Message = "(process {Pid}) {Stream}: {Line}")]
    private static partial void LogOutput(ILogger log, LogLevel level, int pid, string stream, string line);
}
