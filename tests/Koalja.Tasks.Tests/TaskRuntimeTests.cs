using Koalja.Core.Contract;
using System.Text;
using Koalja.Core.Loading;
using Koalja.Core.Spec;
using Koalja.Storage;
using Koalja.Tasks.Sandboxing;

namespace Koalja.Tasks.Tests;

/// <summary>The task runtime with real /bin/sh commands and a real local store, unsandboxed (as on Kubernetes, where the container isolates): SandboxTests runs commands in the sandbox.</summary>
public sealed class TaskRuntimeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("koalja-tasks-").FullName;
    private readonly LocalArtifactStore _store;
    private readonly TaskRuntime _runtime;

    public TaskRuntimeTests()
    {
        _store = new LocalArtifactStore(Path.Combine(_dir, "blobs"));
        _runtime = new TaskRuntime(_store, new TaskRuntimeOptions { WorkRoot = Path.Combine(_dir, "work"), CommandTimeout = TimeSpan.FromSeconds(5), Sandbox = SandboxMode.Off }, TimeProvider.System);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ACommandRunsOnItsInputsAndItsOutputFileBecomesAValue()
    {
        var outcome = await RunAsync("cat {{.inputs.inputFile.path}} | uniq > {{.outputs.outputFile.path}}", "a\na\nb\n");

        Assert.True(outcome.Succeeded, outcome.Error);
        var value = Assert.Single(outcome.Outputs);
        Assert.Equal(("outputFile", 0, "text/plain"), (value.Output, value.Index, value.MediaType));
        Assert.Equal("a\nb\n", await ReadAsync(value.Sha256));
    }

    [Fact]
    public async Task InputsAndOutputsAreAlsoInTheEnvironment()
    {
        var outcome = await RunAsync("cat \"$KOALJA_INPUT_INPUTFILE\" > \"$KOALJA_OUTPUT_OUTPUTFILE\"; echo \"$KOALJA_TASK\" >> \"$KOALJA_OUTPUT_OUTPUTFILE\"", "x\n");

        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.Equal("x\nwork\n", await ReadAsync(outcome.Outputs[0].Sha256));
    }

    [Fact]
    public async Task ASequenceIsAListInTemplatesAndOnePathPerLineInTheEnvironment()
    {
        var outcome = await RunAsync("cat {{range .inputs.inputFile}}{{.path}} {{end}}> {{.outputs.outputFile.path}}; echo \"$KOALJA_INPUT_INPUTFILE\" | wc -l >> {{.outputs.outputFile.path}}",
            ["1\n", "2\n"], minSequenceLength: 2);

        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.Equal("1\n2\n2\n", await ReadAsync(outcome.Outputs[0].Sha256));
    }

    [Fact]
    public async Task AFailingCommandReportsItsExitCodeAndTheEndOfStderrAndKeepsItsLog()
    {
        var outcome = await RunAsync("echo working; echo 'something broke' >&2; exit 3", "x");

        Assert.False(outcome.Succeeded);
        Assert.Equal(3, outcome.ExitCode);
        Assert.Equal("exit code 3", outcome.Error);
        Assert.Equal("something broke", outcome.StderrTail);
        var log = await ReadAsync(outcome.LogSha256!);
        Assert.Contains("working", log, StringComparison.Ordinal);
        Assert.Contains("something broke", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACommandThatWritesNoOutputFails()
    {
        var outcome = await RunAsync("true", "x");

        Assert.False(outcome.Succeeded);
        Assert.Contains("wrote no output 'outputFile'", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADirectoryOutputGivesOneValuePerFileInNameOrder()
    {
        var outcome = await RunAsync("mkdir {{.outputs.outputFile.path}} && echo 2 > {{.outputs.outputFile.path}}/b && echo 1 > {{.outputs.outputFile.path}}/a", "x");

        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.Equal(["1\n", "2\n"], await Task.WhenAll(outcome.Outputs.Select(o => ReadAsync(o.Sha256))));
        Assert.Equal([0, 1], outcome.Outputs.Select(o => o.Index));
    }

    [Fact]
    public async Task ACommandThatRunsTooLongIsKilled()
    {
        var outcome = await RunAsync("sleep 30; echo late > {{.outputs.outputFile.path}}", "x", timeout: TimeSpan.FromMilliseconds(300));

        Assert.False(outcome.Succeeded);
        Assert.StartsWith("timed out after", outcome.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sleep 600 &")] // a background job holding stdout and stderr
    [InlineData("(setsid sleep 600 &)")] // in a new session: out of the process tree, still holding them
    public async Task WhatACommandLeavesRunningWithItsOutputIsKilledWhenItExits(string leftBehind)
    {
        var pids = Path.Combine(_dir, "pids");
        var command = $"echo done > {{{{.outputs.outputFile.path}}}}; {leftBehind.Replace("sleep 600 &", $"sleep 600 & echo $! >> {pids}", StringComparison.Ordinal)}";

        var outcome = await RunAsync(command, "x").WaitAsync(TimeSpan.FromSeconds(60)); // was: running until the sleep ended

        Assert.True(outcome.Succeeded, outcome.Error);
        var pid = int.Parse(File.ReadAllText(pids).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.False(Running(pid), $"the background process {pid} is still running");
        var log = Encoding.UTF8.GetString(await ReadAllAsync(outcome.LogSha256!));
        Assert.Contains("the command left 1 process(es) running that held its output; they were killed when it exited", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACommandThatTimesOutTakesWhatItStartedInANewSessionWithIt()
    {
        var pids = Path.Combine(_dir, "pids");

        var outcome = await RunAsync($"(setsid sleep 600 & echo $! >> {pids}); sleep 600", "x", timeout: TimeSpan.FromMilliseconds(500)).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.StartsWith("timed out after", outcome.Error, StringComparison.Ordinal);
        var pid = int.Parse(File.ReadAllText(pids).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.False(Running(pid), $"the process {pid} started in a new session is still running");
    }

    private static bool Running(int pid)
    {
        for (var i = 0; i < 50; i++) // SIGKILL is delivered at once; reaping by init may take a moment
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                if (stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z'))
                {
                    return false;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }

            Thread.Sleep(20);
        }

        return true;
    }

    private async Task<byte[]> ReadAllAsync(string sha256)
    {
        await using var stream = await _store.OpenReadAsync(sha256);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    [Fact]
    public async Task ContentPrintedIntoAShellScriptStaysDataAndIsNeverRunAsCode()
    {
        var planted = Path.Combine(_dir, "pwned");
        var data = $"hello; touch {planted}; echo $(id -u) `id -g`";

        var outcome = await RunAsync("echo {{readURIAsText .inputs.inputFile.uri}} > {{.outputs.outputFile.path}}; echo \"[{{readURIAsText .inputs.inputFile.uri}}]\" >> {{.outputs.outputFile.path}}", data);

        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.False(File.Exists(planted), "the data ran as shell code");
        var output = Encoding.UTF8.GetString(await ReadAllAsync(outcome.Outputs[0].Sha256));
        Assert.Equal($"{data}\n[{data}]\n", output); // unquoted and inside double quotes alike: the text, as it was
    }

    [Theory]
    [InlineData(new[] { "/bin/sh", "-c", "S" }, 2)]
    [InlineData(new[] { "bash", "-ec", "S" }, 2)]
    [InlineData(new[] { "sh", "-e", "-c", "S", "arg0" }, 3)]
    [InlineData(new[] { "bash", "-o", "pipefail", "-c", "S" }, 4)]
    [InlineData(new[] { "bash", "+x", "-c", "S" }, 3)]
    [InlineData(new[] { "sh", "script.sh", "-c" }, -1)]
    [InlineData(new[] { "python3", "-c", "S" }, -1)]
    [InlineData(new[] { "sh", "-c" }, -1)]
    public void TheScriptOfAShellIsFound(string[] command, int script) => Assert.Equal(script, CommandRunner.ShellScriptIndex(command));

    [Fact]
    public async Task ACommandSeesNoneOfTheServersCredentialsOnlyWhatFindsProgramsAndWhatIsPassed()
    {
        var secret = "KOALJA_TEST_SECRET_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var passed = secret + "_PASSED";
        Environment.SetEnvironmentVariable(secret, "hunter2");
        Environment.SetEnvironmentVariable(passed, "shared");
        try
        {
            const string script = "env | cut -d= -f1 | sort > {{.outputs.outputFile.path}}; echo \"${PASSED_VALUE:-}\" >> {{.outputs.outputFile.path}}";
            var plain = await RunAsync(script.Replace("PASSED_VALUE", passed, StringComparison.Ordinal), ["x"]);
            using var passing = new TaskRuntime(_store, new TaskRuntimeOptions { WorkRoot = Path.Combine(_dir, "work-pass"), PassEnvironment = [passed], Sandbox = SandboxMode.Off }, TimeProvider.System);
            var withPassed = await RunAsync(script.Replace("PASSED_VALUE", passed, StringComparison.Ordinal), ["x"], runtime: passing);

            Assert.True(plain.Succeeded && withPassed.Succeeded, plain.Error + withPassed.Error);
            var names = (await ReadAsync(plain.Outputs[0].Sha256)).Split('\n');
            Assert.DoesNotContain(secret, names);
            Assert.DoesNotContain(passed, names);
            Assert.Contains("PATH", names);
            Assert.Contains("KOALJA_INPUT_INPUTFILE", names);
            Assert.DoesNotContain(names, n => n.StartsWith("KOALJA_TEST_", StringComparison.Ordinal) || n is "PGPASSWORD" or "S3_SECRET_KEY" or "AWS_SECRET_ACCESS_KEY");
            var alsoPassed = await ReadAsync(withPassed.Outputs[0].Sha256);
            Assert.Contains(passed + "\n", alsoPassed, StringComparison.Ordinal);
            Assert.EndsWith("shared\n", alsoPassed, StringComparison.Ordinal);
            Assert.DoesNotContain(secret + "\n", alsoPassed, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(secret, null);
            Environment.SetEnvironmentVariable(passed, null);
        }
    }

    [Fact]
    public async Task FileSplitMakesAValuePerLine()
    {
        var spec = Load("""
            - name: split
              type: FileSplit
              inputs: [{name: input, typeRef: text}]
              outputs: [{name: line, typeRef: text, ready: Auto}]
            """, "split/input");
        var input = await _store.PutAsync(new MemoryStream("one\ntwo\n\nfour"u8.ToArray()));

        var outcome = await _runtime.RunAsync(Invocation(spec, "split", [input]), CancellationToken.None);

        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.Equal(["one", "two", "", "four"], await Task.WhenAll(outcome.Outputs.Select(o => ReadAsync(o.Sha256))));
    }

    [Fact]
    public async Task AReusedWorkingDirectoryShowsNothingOfTheExecutionBefore()
    {
        const string script = "ls -R . | grep -v koalja.log > {{.outputs.outputFile.path}}.tmp; touch leftover; mv {{.outputs.outputFile.path}}.tmp {{.outputs.outputFile.path}}";

        var first = await RunAsync(script, ["1", "2", "3"], minSequenceLength: 3);
        var second = await RunAsync(script, ["1"], minSequenceLength: 1);

        Assert.True(first.Succeeded && second.Succeeded, first.Error + second.Error);
        var listing = await ReadAsync(second.Outputs[0].Sha256);
        Assert.DoesNotContain("leftover", listing, StringComparison.Ordinal);
        Assert.DoesNotContain("\n1\n", listing.Replace("./inputs/inputFile:\n0", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("./inputs/inputFile:\n0\n", listing, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOutputWrittenByTheExecutionBeforeDoesNotCountForTheNext()
    {
        var first = await RunAsync("echo one > {{.outputs.outputFile.path}}", "x");
        var second = await RunAsync("true", "x");
        var third = await RunAsync(": > {{.outputs.outputFile.path}}", "x");

        Assert.True(first.Succeeded, first.Error);
        Assert.False(second.Succeeded);
        Assert.Contains("wrote no output", second.Error, StringComparison.Ordinal);
        Assert.True(third.Succeeded, third.Error); // an empty output, written on purpose, is a value
        Assert.Equal(0, Assert.Single(third.Outputs).Size);
    }

    /// <summary>
    /// Hostile code plants links in its working directory (kept for the task's next execution): the input file and
    /// the output as symbolic links to files outside, the input and the log as hard links, the input directory as a link to a
    /// directory outside. Nothing outside is ever written through them, later executions see their own inputs, and
    /// an output that is a link is refused.
    /// </summary>
    [Fact]
    public async Task LinksPlantedInAReusedWorkingDirectoryAreNeverWrittenThrough()
    {
        var outside = Directory.CreateDirectory(Path.Combine(_dir, "outside")).FullName;
        var victimIn = Path.Combine(outside, "in.txt");
        var victimOut = Path.Combine(outside, "out.txt");
        var victimHard = Path.Combine(outside, "hard.txt");
        var victimLog = Path.Combine(outside, "log.txt");
        var victimDir = Directory.CreateDirectory(Path.Combine(outside, "dir")).FullName;
        await File.WriteAllTextAsync(victimIn, "precious-in");
        await File.WriteAllTextAsync(victimOut, "precious-out");
        await File.WriteAllTextAsync(victimHard, "precious-hard");
        await File.WriteAllTextAsync(victimLog, "precious-log");
        const string input = "{{.inputs.inputFile.path}}";
        const string output = "{{.outputs.outputFile.path}}";
        const string copy = "cat " + input + " > " + output;

        var symlinks = await RunAsync($"rm -f {input}; ln -s {victimIn} {input}; ln -s {victimOut} {output}", "x");
        Assert.False(symlinks.Succeeded);
        Assert.Contains("symbolic link", symlinks.Error, StringComparison.Ordinal);
        var fresh = await RunAsync(copy, "fresh");
        Assert.True(fresh.Succeeded, fresh.Error);
        Assert.Equal("fresh", await ReadAsync(fresh.Outputs[0].Sha256));

        var hard = await RunAsync($"rm -f {input} koalja.log; ln {victimHard} {input}; ln {victimLog} koalja.log; echo ok > {output}", "x");
        Assert.True(hard.Succeeded, hard.Error);
        var again = await RunAsync(copy, "again");
        Assert.Equal("again", await ReadAsync(again.Outputs[0].Sha256));

        var linkedDirectory = await RunAsync($"rm -rf inputs/inputFile; ln -s {victimDir} inputs/inputFile; echo ok > {output}", "x");
        Assert.True(linkedDirectory.Succeeded, linkedDirectory.Error);
        var third = await RunAsync(copy, "third");
        Assert.Equal("third", await ReadAsync(third.Outputs[0].Sha256));

        Assert.Equal("precious-in", await File.ReadAllTextAsync(victimIn));
        Assert.Equal("precious-out", await File.ReadAllTextAsync(victimOut));
        Assert.Equal("precious-hard", await File.ReadAllTextAsync(victimHard));
        Assert.Equal("precious-log", await File.ReadAllTextAsync(victimLog));
        Assert.Empty(Directory.GetFileSystemEntries(victimDir));
    }

    [Fact]
    public async Task NamesThatAreNotUtf8AreRemovedBetweenExecutionsAndWithTheWorkspace()
    {
        // bytes .NET cannot decode (it shows U+FFFD, and cannot delete by that name): a file, a directory with one in it
        const string look = "ls -A | LC_ALL=C grep -a -v -e '^inputs$' -e '^outputs$' -e '^koalja.log$' > {{.outputs.outputFile.path}} || true";
        foreach (var make in new[] { "touch $(printf 'f\\376\\377')", "mkdir -p $(printf 'd\\377') && touch $(printf 'd\\377/g\\300')" })
        {
            var planted = await RunAsync(make + " && echo ok > {{.outputs.outputFile.path}}", "x");
            var next = await RunAsync(look, "x");

            Assert.True(planted.Succeeded && next.Succeeded, planted.Error + next.Error);
            Assert.Equal("", await ReadAsync(next.Outputs[0].Sha256)); // the next execution sees none of them
        }

        var tree = Directory.CreateDirectory(Path.Combine(_dir, "tree")).FullName;
        using (var sh = System.Diagnostics.Process.Start("/bin/sh", ["-c", "cd \"$1\" && mkdir -p a/$(printf 'b\\377')/c && touch a/$(printf 'b\\377')/c/$(printf 'x\\376') $(printf 'y\\377') && ln -s / link", "sh", tree])!)
        {
            await sh.WaitForExitAsync();
        }

        Assert.ThrowsAny<IOException>(() => Directory.Delete(tree, recursive: true)); // what .NET cannot do
        FileTrees.Remove(tree);
        Assert.False(Directory.Exists(tree));
        Assert.True(Directory.Exists("/usr")); // the link went, not what it named
    }

    [Fact]
    public async Task AFileWithASecondNameIsToldApart()
    {
        var file = Path.Combine(_dir, "one-name");
        await File.WriteAllTextAsync(file, "x");
        Assert.Equal(1u, FileLinks.Count(file));
        Assert.True(FileLinks.IsSoleName(new FileInfo(file)));

        using var ln = System.Diagnostics.Process.Start("ln", [file, Path.Combine(_dir, "second-name")])!;
        await ln.WaitForExitAsync();
        Assert.Equal(2u, FileLinks.Count(file));
        Assert.False(FileLinks.IsSoleName(new FileInfo(file)));
        File.CreateSymbolicLink(Path.Combine(_dir, "symbolic"), file);
        Assert.False(FileLinks.IsSoleName(new FileInfo(Path.Combine(_dir, "symbolic"))));
    }

    [Fact]
    public void EnvironmentNamesAreUpperCaseWithUnderscores() =>
        Assert.Equal("KOALJA_INPUT_MY_INPUT2", CommandRunner.EnvironmentName("KOALJA_INPUT_", "my-input2"));

    private async Task<TaskOutcome> RunAsync(string script, string input, TimeSpan? timeout = null) =>
        await RunAsync(script, [input], null, timeout);

    private async Task<TaskOutcome> RunAsync(string script, string[] inputs, long? minSequenceLength = null, TimeSpan? timeout = null, TaskRuntime? runtime = null)
    {
        var stored = new List<StoredArtifact>();
        foreach (var content in inputs)
        {
            stored.Add(await _store.PutAsync(new MemoryStream(Encoding.UTF8.GetBytes(content))));
        }

        runtime ??= timeout is null ? _runtime
            : new TaskRuntime(_store, new TaskRuntimeOptions { WorkRoot = Path.Combine(_dir, "work"), CommandTimeout = timeout.Value, Sandbox = SandboxMode.Off }, TimeProvider.System);
        return await runtime.RunAsync(ShellInvocation(script, stored, minSequenceLength), CancellationToken.None);
    }

    /// <summary>A task <c>work</c> running <c>/bin/sh -c <paramref name="script"/></c> on <paramref name="values"/> (its one input, inputFile) into its one output, outputFile.</summary>
    internal static TaskInvocation ShellInvocation(string script, IReadOnlyList<StoredArtifact> values, long? minSequenceLength = null, string shell = "/bin/sh")
    {
        var yamlScript = script.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
        var spec = Load($$"""
            - name: work
              inputs: [{name: inputFile, typeRef: text{{(minSequenceLength is { } m ? $", minSequenceLength: {m}" : "")}}}]
              outputs: [{name: outputFile, typeRef: text}]
              executor: {image: alpine, command: ["{{shell}}", "-c", "{{yamlScript}}"]}
            """, "work/inputFile");
        return Invocation(spec, "work", values);
    }

    private static TaskInvocation Invocation(PipelineSpec spec, string task, IReadOnlyList<StoredArtifact> values)
    {
        var input = spec.TaskByName(task)!.Inputs[0].Name;
        return new TaskInvocation("p", spec, task, "code", "snap", 1,
            [new InvocationInput(input, values.Select((v, i) => new InvocationValue($"v{i}", v.Sha256, v.Size, "text/plain")).ToList())]);
    }

    private static PipelineSpec Load(string task, string destination)
    {
        var yaml = $"""
            apiVersion: koalja.aljabr.io/v1alpha1
            kind: Pipeline
            metadata: {"{name: p}"}
            spec:
              tasks:
              - name: drop
                type: FileDrop
                outputs: [{"{name: file, typeRef: text}"}]
            {Indent(task)}
              links: [{"{"}name: l, sourceRef: drop/file, destinationRef: {destination}{"}"}]
              types: [{"{name: text, protocol: File, format: Text}"}]
            """;
        var result = PipelineLoader.LoadText(yaml, "test.yaml");
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return result.Pipelines[0].Pipeline.Spec;
    }

    private static string Indent(string text) => string.Join("\n", text.Split('\n').Select(l => "  " + l));

    private async Task<string> ReadAsync(string sha256)
    {
        await using var stream = await _store.OpenReadAsync(sha256);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }
}
