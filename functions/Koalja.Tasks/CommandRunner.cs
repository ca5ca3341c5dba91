using Koalja.Core.Contract;
using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Koalja.Storage;
using Koalja.Core.Templates;
using Koalja.Tasks.Sandboxing;

namespace Koalja.Tasks;

/// <summary>
/// Runs a task's executor command for one snapshot. Inputs are copied to <c>inputs/&lt;input&gt;/&lt;i&gt;</c>
/// and outputs are expected at <c>outputs/&lt;output&gt;</c> (a file, or a directory of files), both under a
/// fresh working directory; paths are generated here, never taken from user-supplied names. The command
/// and args are rendered templates (parsed once per code version) passed as an argument list (no shell is added). The executor image is
/// not used locally. Dropped code replaces the command: its entrypoint runs (directly when it has a
/// <c>#!</c> line, else with /bin/sh) in the same working directory, with <c>KOALJA_CODE_DIR</c> naming
/// the directory the code was unpacked in.
/// </summary>
internal sealed class CommandRunner(IArtifactStore store, CodeCache code, TaskRuntimeOptions options, SandboxPlan? sandbox, TimeProvider time) : ITaskRunner, IAsyncDisposable
{
    private readonly WorkspacePool _workspaces = new(options.WorkRoot);

    /// <summary>What of this process's environment a command gets (read once: it does not change while we run).</summary>
    private readonly IReadOnlyDictionary<string, string> _inherited = CommandEnvironment.From(Environment.GetEnvironmentVariables(), options.PassEnvironment);

    /// <summary>The executors' command templates, parsed once per code version.</summary>
    internal CommandTemplates Templates { get; } = new();

    /// <summary>Largest content <c>readURI</c> puts on a command line.</summary>
    private const int MaxReadUriBytes = 1024 * 1024;

    /// <summary>How long what a command leaves running may keep writing to its output after the command exited.</summary>
    private static readonly TimeSpan BackgroundGrace = TimeSpan.FromSeconds(1);

    /// <summary>How long the output of a command killed with its process tree may take to close before its other holders are looked for.</summary>
    private static readonly TimeSpan KilledGrace = TimeSpan.FromMilliseconds(200);

    public async Task<TaskOutcome> RunAsync(TaskInvocation invocation, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        var workspace = _workspaces.Rent(invocation.Pipeline, invocation.Task);
        var work = workspace.Directory;
        try
        {
            var setup = await PrepareAsync(invocation, work, cancellationToken);
            if (setup.Error is { } setupError)
            {
                return new TaskOutcome(false, [], started, time.GetUtcNow(), Error: setupError);
            }

            var run = await ExecuteAsync(setup.Arguments, setup.Environment, workspace, invocation.PipelineDirectory, cancellationToken);
            var ranIn = ExecutionEnvironment.Of(setup.Arguments, invocation.TaskSpec.Executor?.Image);
            if (!run.Succeeded)
            {
                // a command that says it ran out of space failed for want of room, not for its code or data
                return new TaskOutcome(false, [], started, time.GetUtcNow(), run.ExitCode, run.Error, run.StderrTail, run.LogSha256, Permanent: run.Permanent, Environment: ranIn,
                    Exhausted: !run.Permanent && OutOfSpace.IsMentionedIn(run.StderrTail));
            }

            var (outputs, missing) = await CollectOutputsAsync(invocation, work, cancellationToken);
            return missing is null
                ? new TaskOutcome(true, outputs, started, time.GetUtcNow(), run.ExitCode, LogSha256: run.LogSha256, Environment: ranIn)
                : new TaskOutcome(false, [], started, time.GetUtcNow(), run.ExitCode, missing, run.StderrTail, run.LogSha256, Environment: ranIn);
        }
        finally
        {
            _workspaces.Return(invocation.Pipeline, invocation.Task, workspace,
                invocation.Inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal),
                invocation.TaskSpec.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal));
        }
    }

    private async Task<Setup> PrepareAsync(TaskInvocation invocation, string work, CancellationToken cancellationToken)
    {
        var task = invocation.TaskSpec;
        var executor = task.Executor;
        var inputs = new Dictionary<string, IReadOnlyList<TemplateFile>>(StringComparer.Ordinal);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["KOALJA_PIPELINE"] = invocation.Pipeline,
            ["KOALJA_TASK"] = task.Name,
            ["KOALJA_SNAPSHOT_ID"] = invocation.SnapshotId,
            ["KOALJA_CODE_VERSION"] = invocation.CodeVersion,
        };
        if (invocation.PipelineDirectory is { } folder)
        {
            environment["KOALJA_PIPELINE_DIR"] = folder;
        }

        foreach (var input in invocation.Inputs)
        {
            var files = new List<TemplateFile>();
            for (var i = 0; i < input.Values.Count; i++)
            {
                var value = input.Values[i];
                var relative = $"inputs/{input.Name}/{i}";
                // Written in place: the pool keeps only plain files with one name (no symbolic or hard links).
                await store.MaterializeAsync(value.Sha256, Path.Combine(work, relative), cancellationToken);
                files.Add(new TemplateFile(relative, ArtifactUri.For(value.Sha256), value.ValueId, value.Sha256, value.Size));
            }

            // A reused working directory may hold more input files from an earlier execution.
            foreach (var extra in Directory.EnumerateFiles(Path.Combine(work, "inputs", input.Name)).Where(f => !int.TryParse(Path.GetFileName(f), out var n) || n >= input.Values.Count))
            {
                File.Delete(extra);
            }

            inputs[input.Name] = files;
            environment[EnvironmentName("KOALJA_INPUT_", input.Name)] = string.Join('\n', files.Select(f => Path.Combine(work, f.Path)));
        }

        var outputs = new Dictionary<string, TemplateFile>(StringComparer.Ordinal);
        Directory.CreateDirectory(Path.Combine(work, "outputs"));
        foreach (var output in task.Outputs)
        {
            outputs[output.Name] = new TemplateFile($"outputs/{output.Name}");
            environment[EnvironmentName("KOALJA_OUTPUT_", output.Name)] = Path.Combine(work, "outputs", output.Name);
        }

        foreach (var variable in executor?.Env.Where(e => e.Value is not null) ?? [])
        {
            environment[variable.Name] = variable.Value!;
        }

        if (invocation.Code is { } dropped)
        {
            var directory = await code.DirectoryOfAsync(dropped, cancellationToken);
            var entrypoint = Path.Combine(directory, dropped.Entrypoint);
            environment["KOALJA_CODE_DIR"] = directory;
            return new Setup(CodePackage.Command(entrypoint), environment, null);
        }

        var data = TemplateData.Build(task, invocation.Spec, inputs, outputs, invocation.SnapshotId, name => "127.0.0.1", invocation.PipelineDirectory);
        var command = Templates.For(invocation.CodeVersion, [.. executor!.Command, .. executor.Args]);
        var arguments = new List<string>(command.Templates.Count);
        var script = ShellScriptIndex(command.Texts);
        var bound = 0;
        string Bind(string content)
        {
            var name = $"KOALJA_CONTENT_{++bound}";
            environment[name] = content;
            return "${" + name + "}";
        }

        try
        {
            for (var i = 0; i < command.Templates.Count; i++)
            {
                arguments.Add(command.Templates[i].Render(data, ReadUri, i == script ? Bind : null));
            }
        }
        catch (TemplateException e)
        {
            return new Setup([], environment, CannotRender(task.Name, e.Message));
        }

        if (command.Error is { } parseError)
        {
            return new Setup([], environment, CannotRender(task.Name, parseError));
        }

        return arguments.Count == 0
            ? new Setup([], environment, $"Task '{task.Name}' has no command; locally Koalja runs the executor's command and args, not the image's entrypoint")
            : new Setup(arguments, environment, null);
    }

    /// <summary>Shells whose <c>-c</c> argument is a script: the shell parses it, so no data may be printed into it as code.</summary>
    private static readonly HashSet<string> Shells = new(["sh", "bash", "dash", "ash", "ksh", "mksh", "zsh"], StringComparer.Ordinal);

    /// <summary>
    /// The index of the script argument of <c>sh -c SCRIPT</c> (also <c>bash -ec</c>, <c>/bin/sh -c</c>), or -1. Content
    /// printed into it (<c>readURIAsText</c>) is passed as an environment variable the script expands (<c>${KOALJA_CONTENT_1}</c>):
    /// an expansion's result is never parsed as shell code, so data such as <c>x; rm -rf ~</c> stays data.
    /// </summary>
    internal static int ShellScriptIndex(IReadOnlyList<string> texts)
    {
        if (texts.Count < 2 || !Shells.Contains(Path.GetFileName(texts[0])))
        {
            return -1;
        }

        for (var i = 1; i < texts.Count - 1; i++)
        {
            var option = texts[i];
            if (option is "-o" or "+o" or "-O" or "+O")
            {
                i++; // -o pipefail: the option's argument
                continue;
            }

            if (option.Length < 2 || option[0] is not ('-' or '+') || option.StartsWith("--", StringComparison.Ordinal))
            {
                return -1; // the first operand: a script file, not -c
            }

            if (option[0] == '-' && option.AsSpan(1).Contains('c'))
            {
                return i + 1;
            }
        }

        return -1;
    }

    private static string CannotRender(string task, string problem) => $"Cannot render the command of task '{task}': {problem}";

    private byte[] ReadUri(string uri)
    {
        if (!ArtifactUri.TryParse(uri, out var sha256))
        {
            throw new TemplateException($"readURI: unsupported URI '{uri}'", 0);
        }

        using var stream = store.OpenReadAsync(sha256).GetAwaiter().GetResult();
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxReadUriBytes)
            {
                throw new TemplateException($"readURI: content larger than {MaxReadUriBytes:N0} bytes does not belong on a command line", 0);
            }
        }

        return buffer.ToArray();
    }

    private async Task<RunResult> ExecuteAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, Workspace workspace, string? pipelineFolder, CancellationToken cancellationToken)
    {
        var logPath = Path.Combine(workspace.Directory, "koalja.log");
        await using var log = new LogWriter(logPath, options.StderrTailBytes);
        CommandExit exit;
        if (sandbox is null)
        {
            exit = await RunBareAsync(arguments, _inherited.Concat(environment), workspace.Directory, log, cancellationToken);
        }
        else
        {
            try
            {
                if (workspace.Sandbox is { } shown && shown.PipelineFolder != pipelineFolder)
                {
                    workspace.Sandbox = null; // the pipeline was loaded again from another folder: a sandbox that shows that one
                    await shown.DisposeAsync();
                }

                if (workspace.Sandbox is null)
                {
                    workspace.ScratchMounts = sandbox.MountPointsInScratch(workspace.Directory, workspace.Scratch, pipelineFolder);
                    workspace.Sandbox = await CommandSandbox.StartAsync(sandbox, workspace.Directory, workspace.Scratch, pipelineFolder, _inherited, cancellationToken);
                }

                // inside, /tmp is the sandbox's own: a TMPDIR of the server's would name a directory the command cannot see
                exit = await workspace.Sandbox.RunAsync(arguments, _inherited.Concat(environment).Where(v => v.Key != "TMPDIR").Append(new("TMPDIR", "/tmp")), log, options.CommandTimeout, cancellationToken);
            }
            catch (SandboxException e)
            {
                exit = new CommandExit(null, $"the command's sandbox could not be made: {e.Message}");
            }
        }

        await log.DisposeAsync();
        var logSha = await StoreLogAsync(logPath, cancellationToken);
        if (exit.ExitCode is not { } exitCode)
        {
            return new RunResult(false, null, exit.Error, log.StderrTail, logSha, exit.Permanent);
        }

        // The shell's own codes for a program it could not find (127) or run (126): the same next time.
        var error = exit.Error;
        var permanent = error is null && exitCode is 126 or 127;
        error ??= exitCode switch
        {
            0 => null,
            127 => "exit code 127: a program the command runs was not found",
            126 => "exit code 126: a program the command runs cannot be executed (not executable, or not a program)",
            _ => $"exit code {exitCode}",
        };
        return new RunResult(error is null, exitCode, error, log.StderrTail, logSha, permanent);
    }

    /// <summary>
    /// Runs the command as a child of this process, where no sandbox is made (on Kubernetes the task's container is one;
    /// elsewhere the runtime warned). What it leaves running with its output is killed (found by the pipes), so that
    /// it can neither keep the execution open past its timeout nor hold the worker slot.
    /// </summary>
    private async Task<CommandExit> RunBareAsync(IReadOnlyList<string> arguments, IEnumerable<KeyValuePair<string, string>> environment, string work, LogWriter log, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(arguments[0])
        {
            WorkingDirectory = work,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Clear(); // never the server's credentials
        foreach (var (name, value) in environment)
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
            return CommandExit.CannotStart(arguments[0], e.NativeErrorCode, e.Message);
        }

        process.StandardInput.Close();
        var pumps = Task.WhenAll(log.PumpAsync(process.StandardOutput.BaseStream, isError: false), log.PumpAsync(process.StandardError.BaseStream, isError: true));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.CommandTimeout);
        string? error = null;
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            error = cancellationToken.IsCancellationRequested ? "cancelled" : $"timed out after {options.CommandTimeout}";
        }

        // Once the command has exited (or was killed), what it left running with its output (a background job, one in
        // a new session) gets a moment to finish writing, then is killed.
        if (await Task.WhenAny(pumps, Task.Delay(error is null ? BackgroundGrace : KilledGrace, CancellationToken.None)) != pumps)
        {
            var killed = OutputHolders.Kill(process.StandardOutput.BaseStream, process.StandardError.BaseStream);
            var closed = await Task.WhenAny(pumps, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)) == pumps;
            if (!closed)
            {
                process.StandardOutput.BaseStream.Dispose(); // a holder we could not kill: stop reading, keep the slot
                process.StandardError.BaseStream.Dispose();
                await log.NoteAsync("koalja: a process the command started still holds its output and could not be killed; its output is no longer read");
            }

            if (killed > 0)
            {
                await log.NoteAsync($"koalja: the command left {killed} process(es) running that held its output; they were killed when it {(error is null ? "exited" : "was stopped")}");
            }
        }

        await pumps;
        return new CommandExit(process.ExitCode, error);
    }

    public ValueTask DisposeAsync() => _workspaces.DisposeAsync();

    private async Task<string?> StoreLogAsync(string logPath, CancellationToken cancellationToken)
    {
        if (!File.Exists(logPath) || new FileInfo(logPath).Length == 0)
        {
            return null;
        }

        await using var stream = File.OpenRead(logPath);
        return (await store.PutAsync(stream, cancellationToken: cancellationToken)).Sha256;
    }

    private async Task<(IReadOnlyList<ProducedValue> Outputs, string? Missing)> CollectOutputsAsync(TaskInvocation invocation, string work, CancellationToken cancellationToken)
    {
        var produced = new List<ProducedValue>();
        foreach (var output in invocation.TaskSpec.Outputs)
        {
            var path = Path.Combine(work, "outputs", output.Name);
            var mediaType = MediaTypes.ForFormat(invocation.Spec.TypeByName(output.TypeRef)?.Format);
            IEnumerable<string> files = File.Exists(path) && !WorkspacePool.IsStale(path) ? [path]
                : Directory.Exists(path) ? Directory.GetFiles(path).Order(StringComparer.Ordinal)
                : [];
            var index = 0;
            var linkedDirectory = WorkspacePool.IsLink(new DirectoryInfo(path));
            foreach (var file in files)
            {
                if (linkedDirectory || WorkspacePool.IsLink(new FileInfo(file)))
                {
                    return ([], $"output '{output.Name}' is a symbolic link ({Path.GetRelativePath(work, file)}); an output must be a file the command wrote");
                }

                await using var stream = File.OpenRead(file);
                var stored = await store.PutAsync(stream, cancellationToken: cancellationToken);
                produced.Add(new ProducedValue(output.Name, index++, stored.Sha256, stored.Size, mediaType));
            }

            if (index == 0 && !Directory.Exists(path))
            {
                return ([], $"the command exited 0 but wrote no output '{output.Name}' (expected a file at outputs/{output.Name}, or a directory of files)");
            }
        }

        return (produced, null);
    }

    /// <summary><c>KOALJA_INPUT_INPUTFILE</c>: the name in upper case, anything but letters and digits as '_'.</summary>
    internal static string EnvironmentName(string prefix, string name)
    {
        var builder = new StringBuilder(prefix);
        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_');
        }

        return builder.ToString();
    }

    private sealed record Setup(IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment, string? Error);

    private sealed record RunResult(bool Succeeded, int? ExitCode, string? Error, string? StderrTail, string? LogSha256, bool Permanent = false);
}
