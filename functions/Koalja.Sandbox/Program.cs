using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Koalja.Tasks.Sandboxing;

namespace Koalja.Sandbox;

/// <summary>
/// Runs inside a task worker slot's sandbox (bubblewrap: its own mount, process, IPC and host-name namespaces), for as
/// long as the slot lives: the runtime sends it one command at a time (<see cref="SandboxFrames.Run"/>); it starts the
/// command with exactly the environment sent, relays its stdout and stderr, and when the command has exited (or is
/// stopped) ends every other process in the sandbox, so nothing an execution started survives into the next one, or
/// past its timeout. It makes itself non-dumpable first, so that a command (running as the same user) can neither
/// trace it nor open its memory or file descriptors to change what later executions do. It ends when its stdin
/// ends: the runtime stopped, or died.
/// </summary>
public static partial class Program
{
    /// <summary>How long what a command leaves running may keep writing to its output after the command exited.</summary>
    private static readonly TimeSpan BackgroundGrace = TimeSpan.FromSeconds(1);

    /// <summary>The same for a command that was stopped.</summary>
    private static readonly TimeSpan StoppedGrace = TimeSpan.FromMilliseconds(200);

    private static readonly SemaphoreSlim WriteLock = new(1, 1);

    public static async Task<int> Main()
    {
        if (OperatingSystem.IsLinux())
        {
            _ = Prctl(PrSetDumpable, 0, 0, 0, 0);
        }

        await using var input = Console.OpenStandardInput();
        await using var output = Console.OpenStandardOutput();
        var frames = Channel.CreateUnbounded<(byte Kind, byte[] Payload)?>();
        _ = Task.Run(async () =>
        {
            try
            {
                while (await SandboxFrames.ReadAsync(input) is { } frame)
                {
                    await frames.Writer.WriteAsync(frame);
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                await Console.Error.WriteLineAsync($"koalja-sandbox: {e.Message}");
            }

            await frames.Writer.WriteAsync(null); // the runtime is gone
        });

        await SendAsync(output, SandboxFrames.Ready, System.Text.Encoding.UTF8.GetBytes(SandboxFrames.Version));
        while (await frames.Reader.ReadAsync() is { } frame)
        {
            // A stop that comes while nothing runs is late for a command that ended already.
            if (frame.Kind == SandboxFrames.Run && !await RunAsync(SandboxFrames.ReadRun(frame.Payload), frames.Reader, output))
            {
                break;
            }
        }

        EndAllButMe();
        return 0;
    }

    /// <summary>Runs one command to its end; false if the runtime went away meanwhile.</summary>
    private static async Task<bool> RunAsync((IReadOnlyList<string> Arguments, IReadOnlyList<KeyValuePair<string, string>> Environment, string WorkingDirectory) run, ChannelReader<(byte Kind, byte[] Payload)?> frames, Stream output)
    {
        var start = new ProcessStartInfo(run.Arguments[0])
        {
            WorkingDirectory = run.WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in run.Arguments.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Clear();
        foreach (var (name, value) in run.Environment)
        {
            start.Environment[name] = value;
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            await SendAsync(output, SandboxFrames.CannotStart, SandboxFrames.CannotStartPayload(e.NativeErrorCode, e.Message));
            return true;
        }

        process.StandardInput.Close();
        var pumps = Task.WhenAll(
            RelayAsync(process.StandardOutput.BaseStream, SandboxFrames.Stdout, output),
            RelayAsync(process.StandardError.BaseStream, SandboxFrames.Stderr, output));
        var exited = process.WaitForExitAsync();
        var stopped = false;
        var runtimeGone = false;
        while (!exited.IsCompleted)
        {
            // Waiting does not take the frame: one that comes as the command exits is read before the next command.
            if (await Task.WhenAny(exited, frames.WaitToReadAsync().AsTask()) == exited || !frames.TryRead(out var frame))
            {
                continue;
            }

            if (frame is null || frame.Value.Kind == SandboxFrames.Stop)
            {
                runtimeGone = frame is null;
                stopped = true;
                EndAllButMe();
            }
        }

        await exited;
        if (await Task.WhenAny(pumps, Task.Delay(stopped ? StoppedGrace : BackgroundGrace)) != pumps)
        {
            // still held open by what the command left running: that gets killed below, and the pipes then close
        }

        var leftRunning = EndAllButMe();
        if (await Task.WhenAny(pumps, Task.Delay(TimeSpan.FromSeconds(5))) != pumps)
        {
            process.StandardOutput.BaseStream.Dispose();
            process.StandardError.BaseStream.Dispose();
        }

        if (runtimeGone)
        {
            return false;
        }

        await SendAsync(output, SandboxFrames.Exited, SandboxFrames.ExitedPayload(process.ExitCode, leftRunning));
        return true;
    }

    private static async Task RelayAsync(Stream source, byte kind, Stream output)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer)) > 0)
            {
                await SendAsync(output, kind, buffer.AsMemory(0, read));
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or IOException)
        {
            // closed under us: a holder that could not be killed
        }
    }

    private static async Task SendAsync(Stream output, byte kind, ReadOnlyMemory<byte> payload)
    {
        await WriteLock.WaitAsync();
        try
        {
            await SandboxFrames.WriteAsync(output, kind, payload);
        }
        finally
        {
            WriteLock.Release();
        }
    }

    /// <summary>
    /// Kills (SIGKILL) every process in the sandbox but this one and the sandbox's init (pid 1), until none is left: a
    /// process namespace holds everything a command started, whatever session or parent it moved to. How many.
    /// </summary>
    private static int EndAllButMe()
    {
        var killed = new HashSet<int>();
        for (var pass = 0; pass < 1000; pass++)
        {
            var alive = 0;
            foreach (var entry in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == 1 || pid == Environment.ProcessId || IsZombie(entry))
                {
                    continue;
                }

                alive++;
                if (Kill(pid, SigKill) == 0)
                {
                    killed.Add(pid);
                }
            }

            if (alive == 0)
            {
                break;
            }

            Thread.Sleep(1);
        }

        return killed.Count;
    }

    /// <summary>Ended but not yet reaped by its parent (the sandbox's init reaps orphans): nothing left to kill.</summary>
    private static bool IsZombie(string procEntry)
    {
        try
        {
            var stat = File.ReadAllText(Path.Combine(procEntry, "stat"));
            var state = stat.LastIndexOf(')') is var end and > 0 && end + 2 < stat.Length ? stat[end + 2] : '?';
            return state is 'Z' or 'X';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true; // gone meanwhile
        }
    }

    private const int PrSetDumpable = 4;
    private const int SigKill = 9;

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int Prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);
}
