using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace Koalja.Tasks.Sandboxing;

/// <summary>
/// One task worker slot's sandbox: a bubblewrap process, started once and kept while the slot has work, that runs the
/// slot's executions one after another through the Koalja.Sandbox program inside it (the local twin of a task pod;
/// starting bubblewrap per execution would cost as much as the commands themselves). What the command sees:
/// <list type="bullet">
/// <item>the machine's file system read-only, without the directories hidden by the plan (the data directory: the
/// registry, the keys, the blobs, every other working directory);</item>
/// <item>its working directory writable, with <c>inputs/</c> read-only inside it; dropped code read-only; a <c>/tmp</c>
/// of its own (emptied between executions, like the working directory); <c>/dev</c> with only the basic devices,
/// read-only;</item>
/// <item>its own process, IPC and host-name namespaces (no other process of the machine is visible, the server's
/// environment in <c>/proc</c> among them), no capabilities, no new privileges (no setuid), and optionally no network.</item>
/// </list>
/// </summary>
internal sealed class CommandSandbox : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<(byte Kind, byte[] Payload)?> _frames = Channel.CreateUnbounded<(byte Kind, byte[] Payload)?>();
    private readonly StringBuilder _stderr = new();
    private readonly Task _reader;
    private readonly Task _stderrReader;

    private CommandSandbox(Process process)
    {
        _process = process;
        _reader = Task.Run(ReadFramesAsync);
        _stderrReader = Task.Run(ReadStderrAsync);
    }

    /// <summary>False once the sandbox ended (a command killed the program in it, it was stopped): the slot needs a new one.</summary>
    public bool IsAlive { get; private set; } = true;

    /// <summary>The workspace it was made for; it runs commands only there.</summary>
    public required string Workspace { get; init; }

    /// <summary>The pipeline folder this sandbox shows (see <see cref="SandboxPlan.Arguments"/>).</summary>
    public string? PipelineFolder { get; private init; }

    /// <summary>Starts a sandbox for <paramref name="workspace"/>, and waits until the program in it is ready.</summary>
    /// <exception cref="SandboxException">bubblewrap or the program in it did not start; the message says why.</exception>
    public static async Task<CommandSandbox> StartAsync(SandboxPlan plan, string workspace, string scratch, string? pipelineFolder, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(plan.Bubblewrap)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workspace,
        };
        foreach (var argument in plan.Arguments(workspace, scratch, pipelineFolder))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Clear(); // the program in the sandbox, like the commands, never sees the server's credentials
        foreach (var (name, value) in environment.Concat(SandboxPlan.LauncherEnvironment))
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new SandboxException($"bubblewrap ({plan.Bubblewrap}) could not be started: {e.Message}");
        }

        var sandbox = new CommandSandbox(process) { Workspace = workspace, PipelineFolder = pipelineFolder };
        using var ready = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ready.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            var frame = await sandbox._frames.Reader.ReadAsync(ready.Token);
            if (frame is { Kind: SandboxFrames.Ready } hello && Encoding.UTF8.GetString(hello.Payload) == SandboxFrames.Version)
            {
                return sandbox;
            }

            var said = await sandbox.StderrAsync();
            await sandbox.DisposeAsync();
            throw new SandboxException(frame is null
                ? $"the sandbox ended as it started{(said.Length == 0 ? "" : ": " + said)}"
                : "the program in the sandbox speaks another protocol than this runtime (a mixed installation)");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await sandbox.DisposeAsync();
            throw new SandboxException("the sandbox did not get ready within 30 s");
        }
    }

    /// <summary>
    /// Runs one command in the sandbox, its output into <paramref name="log"/>. A command still running after
    /// <paramref name="timeout"/> (or when cancelled) is stopped with all it started; so is, always, whatever it left
    /// running when it exited.
    /// </summary>
    public async Task<CommandExit> RunAsync(IReadOnlyList<string> arguments, IEnumerable<KeyValuePair<string, string>> environment, LogWriter log, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!IsAlive)
        {
            return new CommandExit(null, "the sandbox had ended before the command could start");
        }

        await SendAsync(SandboxFrames.Run, SandboxFrames.RunPayload(arguments, environment, Workspace));
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        string? stopped = null;
        using var gone = new CancellationTokenSource();
        while (true)
        {
            (byte Kind, byte[] Payload)? frame;
            try
            {
                frame = await _frames.Reader.ReadAsync(stopped is null ? limit.Token : gone.Token);
            }
            catch (OperationCanceledException) when (stopped is null)
            {
                stopped = cancellationToken.IsCancellationRequested ? "cancelled" : $"timed out after {timeout}";
                await SendAsync(SandboxFrames.Stop, ReadOnlyMemory<byte>.Empty);
                gone.CancelAfter(TimeSpan.FromSeconds(10)); // the program in the sandbox ends it at once, or the sandbox goes
                continue;
            }
            catch (OperationCanceledException)
            {
                await EndAsync();
                await log.NoteAsync("koalja: the sandbox did not stop the command; the sandbox was ended");
                return new CommandExit(null, stopped);
            }

            switch (frame)
            {
                case null:
                    IsAlive = false;
                    var said = await StderrAsync();
                    return new CommandExit(null, stopped ?? $"the sandbox ended while the command ran (a process in it ended Koalja's program there, or memory ran out){(said.Length == 0 ? "" : ": " + said)}");
                case { Kind: SandboxFrames.Stdout or SandboxFrames.Stderr } output:
                    await log.AppendAsync(output.Payload, isError: output.Kind == SandboxFrames.Stderr);
                    break;
                case { Kind: SandboxFrames.Exited } exited:
                    var (exitCode, leftRunning) = SandboxFrames.ReadExited(exited.Payload);
                    if (leftRunning > 0 && stopped is null)
                    {
                        await log.NoteAsync($"koalja: the command left {leftRunning} process(es) running; they were killed when it exited");
                    }

                    return new CommandExit(exitCode, stopped);
                case { Kind: SandboxFrames.CannotStart } refused:
                    var (error, message) = SandboxFrames.ReadCannotStart(refused.Payload);
                    return CommandExit.CannotStart(arguments[0], error, message);
                default:
                    await EndAsync();
                    return new CommandExit(null, $"the sandbox sent an unknown message ({frame.Value.Kind}); it was ended");
            }
        }
    }

    private async Task SendAsync(byte kind, ReadOnlyMemory<byte> payload)
    {
        try
        {
            await SandboxFrames.WriteAsync(_process.StandardInput.BaseStream, kind, payload);
        }
        catch (IOException)
        {
            IsAlive = false; // it ended: the reader sees the end of its output
        }
    }

    private async Task ReadFramesAsync()
    {
        try
        {
            while (await SandboxFrames.ReadAsync(_process.StandardOutput.BaseStream) is { } frame)
            {
                await _frames.Writer.WriteAsync(frame);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ObjectDisposedException)
        {
            lock (_stderr)
            {
                _stderr.Append(e.Message);
            }
        }

        IsAlive = false;
        await _frames.Writer.WriteAsync(null);
    }

    private async Task ReadStderrAsync()
    {
        var buffer = new char[4096];
        try
        {
            int read;
            while ((read = await _process.StandardError.ReadAsync(buffer)) > 0)
            {
                lock (_stderr)
                {
                    _stderr.Append(buffer, 0, read);
                    if (_stderr.Length > 4096)
                    {
                        _stderr.Remove(0, _stderr.Length - 4096);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // ended with the process
        }
    }

    /// <summary>What the sandbox said on stderr (bubblewrap's own errors among it), once it ended (waits a moment for that).</summary>
    private async Task<string> StderrAsync()
    {
        await Task.WhenAny(_stderrReader, Task.Delay(TimeSpan.FromSeconds(1)));
        lock (_stderr)
        {
            return _stderr.ToString().Trim();
        }
    }

    private async Task EndAsync()
    {
        IsAlive = false;
        try
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            // gone already, or not reaped yet: its pipes close anyway
        }
    }

    /// <summary>Ends the sandbox: closing its input ends the program in it, and with that everything in the sandbox.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // ended already
        }

        if (await Task.WhenAny(_reader, Task.Delay(TimeSpan.FromSeconds(5))) != _reader)
        {
            await EndAsync();
        }

        IsAlive = false;
        await Task.WhenAny(_stderrReader, Task.Delay(TimeSpan.FromSeconds(1)));
        _process.Dispose();
    }
}

/// <summary>A sandbox could not be made; the message says why, for the execution's error or the server's start.</summary>
public sealed class SandboxException(string message) : Exception(message);
