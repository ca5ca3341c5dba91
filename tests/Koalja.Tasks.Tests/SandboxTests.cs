using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Koalja.Core.Contract;
using Koalja.Storage;
using Koalja.Tasks.Sandboxing;

namespace Koalja.Tasks.Tests;

/// <summary>
/// Commands in the sandbox (bubblewrap, which ./run-tests installs; <see cref="SandboxMode.Required"/> makes a machine
/// without it fail here rather than pass unsandboxed), as hostile code would probe it: what it can read and write,
/// which processes it can see, what outlives it, and whether one execution can change the next.
/// </summary>
public sealed class SandboxTests : IAsyncLifetime
{
    /// <summary>Outside /tmp, like a real data directory (./.koalja): the sandbox's /tmp is its own, which would hide one under /tmp anyway.</summary>
    private readonly string _data = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "sandbox-" + Guid.NewGuid().ToString("N")[..8])).FullName;
    private readonly LocalArtifactStore _store;
    private readonly List<TaskRuntime> _runtimes = [];
    private readonly List<string> _temporary = [];

    public SandboxTests()
    {
        _store = new LocalArtifactStore(Path.Combine(_data, "blobs"));
        File.WriteAllText(Path.Combine(_data, "keys.json"), """{"admin":"secret-admin-key"}""");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var runtime in _runtimes)
        {
            await runtime.DisposeAsync();
        }

        Directory.Delete(_data, recursive: true);
        _temporary.ForEach(d => Directory.Delete(d, recursive: true));
    }

    [Fact]
    public void TheSandboxIsWhatTheRuntimeSaysItUses()
    {
        var runtime = Runtime();

        Assert.True(runtime.Isolation.Sandboxed, runtime.Isolation.Description);
        Assert.Contains("bubblewrap", runtime.Isolation.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACommandWritesOnlyItsOutputsAndScratchAndReadsNothingOfTheDataDirectory()
    {
        const string script = """
            try() { if eval "$1" 2>/dev/null; then echo "$2: yes"; else echo "$2: no"; fi; }
            out={{.outputs.outputFile.path}}
            {
              try "echo x > {{.inputs.inputFile.path}}" "write input"
              try "touch inputs/new" "create in inputs"
              try "touch /etc/koalja-probe" "write /etc"
              try "touch /dev/shm/koalja-probe" "write /dev/shm"
              try "touch $HOME/koalja-probe" "write home"
              try "cat DATA/keys.json" "read keys"
              try "ls DATA/blobs | grep -q ." "list blobs"
              try "touch DATA/planted" "write data"
              try "touch /tmp/scratch && rm /tmp/scratch" "write /tmp"
              try "touch scratch-in-workdir" "write workdir"
            } > $out.tmp
            mv $out.tmp $out
            """;

        var outcome = await RunAsync(Runtime(), script.Replace("DATA", _data, StringComparison.Ordinal), "input");

        Assert.True(outcome.Succeeded, outcome.Error);
        var report = await ReadAsync(outcome.Outputs[0].Sha256);
        Assert.Equal(
            """
            write input: no
            create in inputs: no
            write /etc: no
            write /dev/shm: no
            write home: no
            read keys: no
            list blobs: no
            write data: no
            write /tmp: yes
            write workdir: yes

            """, report);
        Assert.False(File.Exists(Path.Combine(_data, "planted")));
    }

    [Fact]
    public async Task NoProcessOfTheMachineIsVisibleNorTheServersEnvironmentInProc()
    {
        var secret = "KOALJA_SANDBOX_SECRET_" + Guid.NewGuid().ToString("N")[..8];
        Environment.SetEnvironmentVariable("KOALJA_TEST_SANDBOX_SECRET", secret);
        try
        {
            var outcome = await RunAsync(Runtime(),
                "(cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | grep -a -c KOALJA_SANDBOX[_]SECRET_ || true) > {{.outputs.outputFile.path}}; ls /proc | grep -c '^[0-9]' >> {{.outputs.outputFile.path}}",
                "x");

            Assert.True(outcome.Succeeded, outcome.Error);
            var lines = (await ReadAsync(outcome.Outputs[0].Sha256)).Split('\n');
            Assert.Equal("0", lines[0]); // no process shows the server's environment
            Assert.True(int.Parse(lines[1], CultureInfo.InvariantCulture) <= 6, $"the sandbox sees {lines[1]} processes"); // init, the sandbox's program, the shell and its pipeline
        }
        finally
        {
            Environment.SetEnvironmentVariable("KOALJA_TEST_SANDBOX_SECRET", null);
        }
    }

    [Theory]
    [InlineData("sleep TOKEN &")] // a background job holding stdout and stderr
    [InlineData("(setsid sleep TOKEN &)")] // in a new session: out of the process tree
    [InlineData("(nohup sleep TOKEN > /dev/null 2>&1 &)")] // holding no output at all
    public async Task NothingACommandLeavesRunningOutlivesIt(string leftBehind)
    {
        var token = UniqueSleep();

        var outcome = await RunAsync(Runtime(), $"echo done > {{{{.outputs.outputFile.path}}}}; {leftBehind.Replace("TOKEN", token, StringComparison.Ordinal)}", "x")
            .WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.False(AnyRunning(token), $"'sleep {token}' still runs after the command exited");
        Assert.Contains("the command left 1 process(es) running; they were killed when it exited", await ReadAsync(outcome.LogSha256!), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACommandThatTimesOutIsStoppedWithAllItStarted()
    {
        var token = UniqueSleep();

        var outcome = await RunAsync(Runtime(TimeSpan.FromMilliseconds(500)), $"(setsid sleep {token} &); sleep {token}", "x").WaitAsync(TimeSpan.FromSeconds(60));

        Assert.StartsWith("timed out after", outcome.Error, StringComparison.Ordinal);
        Assert.False(AnyRunning(token), $"'sleep {token}' still runs after the timeout");
    }

    [Fact]
    public async Task ASlotKeepsItsSandboxAndAnExecutionSeesNothingOfTheOneBefore()
    {
        // the sandbox program's start time (/proc/2/stat, field 22) tells one sandbox from another
        const string script = "cut -d' ' -f22 /proc/2/stat > {{.outputs.outputFile.path}}; ls -A /tmp >> {{.outputs.outputFile.path}}; touch /tmp/left-behind";
        var underTmp = Directory.CreateTempSubdirectory("koalja-sandbox-work-").FullName; // the sandbox's /tmp is bound over it
        _temporary.Add(underTmp);
        var runtime = Runtime(workRoot: underTmp);

        var first = await RunAsync(runtime, script, "x");
        var second = await RunAsync(runtime, script, "x");

        Assert.True(first.Succeeded && second.Succeeded, first.Error + second.Error);
        var (one, two) = (await ReadAsync(first.Outputs[0].Sha256), await ReadAsync(second.Outputs[0].Sha256));
        Assert.Equal(one.Split('\n')[0], two.Split('\n')[0]); // the same sandbox
        Assert.DoesNotContain("left-behind", two, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACommandThatEndsItsSandboxFailsAndTheNextExecutionGetsANewOne()
    {
        var runtime = Runtime();

        var killer = await RunAsync(runtime, "kill -9 $PPID; sleep 5", "x");
        var next = await RunAsync(runtime, "echo fine > {{.outputs.outputFile.path}}", "x");

        Assert.False(killer.Succeeded);
        Assert.Contains("the sandbox ended while the command ran", killer.Error, StringComparison.Ordinal);
        Assert.True(next.Succeeded, next.Error);
    }

    [Fact]
    public async Task WithoutNetworkACommandCannotReachTheServersAddress()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var script = $"if bash -c 'echo > /dev/tcp/127.0.0.1/{port}' 2>/dev/null; then echo reached; else echo cut off; fi > {{{{.outputs.outputFile.path}}}}";

        var connected = await RunAsync(Runtime(), script, "x");
        var isolated = await RunAsync(Runtime(network: false), script, "x");

        Assert.Equal("reached\n", await ReadAsync(connected.Outputs[0].Sha256));
        Assert.Equal("cut off\n", await ReadAsync(isolated.Outputs[0].Sha256));
    }

    [Fact]
    public async Task AProgramThatIsNotThereFailsForGoodAsWithoutSandbox()
    {
        var missing = TaskRuntimeTests.ShellInvocation("true", [await _store.PutAsync(new MemoryStream("x"u8.ToArray()))], shell: "/no/such/program");

        var outcome = await Runtime().RunAsync(missing, CancellationToken.None);

        Assert.False(outcome.Succeeded);
        Assert.True(outcome.Permanent, outcome.Error);
        Assert.StartsWith("Cannot start '/no/such/program'", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APipelineFolderInTmpIsVisibleReadOnlyButTheDataDirectoryInsideItIsNot()
    {
        // the sandbox's /tmp is its own: a project in /tmp (pipeline file, its scripts, ./.koalja beside them) is bound in again
        var project = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "koalja-project-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        _temporary.Add(project);
        File.WriteAllText(Path.Combine(project, "count.sh"), "wc -c < \"$1\" | tr -d ' '\n");
        var inside = Directory.CreateDirectory(Path.Combine(project, ".koalja")).FullName;
        File.WriteAllText(Path.Combine(inside, "keys.json"), "{}");
        var runtime = new TaskRuntime(_store, new TaskRuntimeOptions
        {
            WorkRoot = Path.Combine(_data, "work"),
            CodeRoot = Path.Combine(_data, "code"),
            Sandbox = SandboxMode.Required,
            SandboxHides = [_data, inside],
        }, TimeProvider.System);
        _runtimes.Add(runtime);
        const string script = """
            {
              sh "$KOALJA_PIPELINE_DIR/count.sh" {{.inputs.inputFile.path}}
              if cat "$KOALJA_PIPELINE_DIR/.koalja/keys.json" 2>/dev/null; then echo "read keys: yes"; else echo "read keys: no"; fi
              if touch "$KOALJA_PIPELINE_DIR/planted" 2>/dev/null; then echo "write folder: yes"; else echo "write folder: no"; fi
            } > {{.outputs.outputFile.path}}
            """;
        var invocation = TaskRuntimeTests.ShellInvocation(script, [await _store.PutAsync(new MemoryStream("four"u8.ToArray()))]) with { PipelineDirectory = project };

        var outcome = await runtime.RunAsync(invocation, CancellationToken.None);

        Assert.True(outcome.Succeeded, outcome.Error + outcome.StderrTail);
        Assert.Equal("4\nread keys: no\nwrite folder: no\n", await ReadAsync(outcome.Outputs[0].Sha256));
        Assert.False(File.Exists(Path.Combine(project, "planted")));
    }

    private TaskRuntime Runtime(TimeSpan? timeout = null, bool network = true, string? workRoot = null)
    {
        var runtime = new TaskRuntime(_store, new TaskRuntimeOptions
        {
            WorkRoot = workRoot ?? Path.Combine(_data, "work"),
            CodeRoot = Path.Combine(_data, "code"),
            CommandTimeout = timeout ?? TimeSpan.FromSeconds(30),
            Sandbox = SandboxMode.Required,
            SandboxNetwork = network,
            SandboxHides = [_data],
        }, TimeProvider.System);
        _runtimes.Add(runtime);
        return runtime;
    }

    private async Task<TaskOutcome> RunAsync(TaskRuntime runtime, string script, string input) =>
        await runtime.RunAsync(TaskRuntimeTests.ShellInvocation(script, [await _store.PutAsync(new MemoryStream(Encoding.UTF8.GetBytes(input)))]), CancellationToken.None);

    private async Task<string> ReadAsync(string sha256)
    {
        await using var stream = await _store.OpenReadAsync(sha256);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    /// <summary>A sleep of about 600 s that no other process on the machine runs (GNU sleep takes a fraction).</summary>
    private static string UniqueSleep() => "600." + Random.Shared.Next(100_000, 999_999).ToString(CultureInfo.InvariantCulture);

    /// <summary>Whether any process of the machine (not a zombie) runs <c>sleep <paramref name="token"/></c>, after the moment SIGKILL and reaping take.</summary>
    private static bool AnyRunning(string token)
    {
        for (var i = 0; i < 50; i++)
        {
            if (!Process.GetProcessesByName("sleep").Any(p => Runs(p.Id, token)))
            {
                return false;
            }

            Thread.Sleep(20);
        }

        return true;
    }

    private static bool Runs(int pid, string token)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return !stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z') && File.ReadAllText($"/proc/{pid}/cmdline").Contains(token, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
