using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Koalja.Core.Loading;
using Koalja.Router.Hosting;
using Koalja.Router.Runtime;

namespace Koalja.Cli.Tests;

/// <summary>
/// What a user needs after the first run: <c>koalja logs</c> of an execution, a value or a task (and <c>--follow</c>),
/// <c>values</c> newest first saying when there are more, a server on every interface that the CLI still finds, a
/// key for a server named by <c>--url</c>, and <c>koalja up</c> refusing bad options in one line.
/// </summary>
public sealed class DayTwoCommandTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("koalja-cli-day2-").FullName;
    private LocalServer? _server;

    private string Data => Path.Combine(_dir, ".koalja");

    private string PipelineFile => Path.Combine(_dir, "logged.yaml");

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(PipelineFile, """
            apiVersion: koalja.aljabr.io/v1alpha1
            kind: Pipeline
            metadata: {name: logged}
            spec:
              tasks:
              - {name: drop, type: FileDrop, outputs: [{name: file, typeRef: text}]}
              - name: shout
                inputs: [{name: in, typeRef: text}]
                outputs: [{name: out, typeRef: text}]
                executor:
                  image: alpine
                  command: ["/bin/sh", "-c", "echo \"shouting $(cat {{.inputs.in.path}})\"; echo 'to stderr' >&2; tr a-z A-Z < {{.inputs.in.path}} > {{.outputs.out.path}}"]
              links: [{name: l, sourceRef: drop/file, destinationRef: shout/in}]
              types: [{name: text, protocol: File, format: Text}]
            """);
        var pipeline = PipelineLoader.LoadFile(PipelineFile).Pipelines[0].Pipeline;
        // On every interface: server.json must still give clients an address they can use, and every request needs a key.
        _server = await LocalServer.StartAsync(new LocalServerOptions { DataDirectory = Data, ListenAddress = IPAddress.Any, Runtime = new RuntimeOptions { SlotsPerTask = 1 } }, [pipeline]);
    }

    public async Task DisposeAsync()
    {
        await _server!.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task LogsOfAnExecutionAValueAndATaskAndValuesNewestFirst()
    {
        Assert.Equal("127.0.0.1", _server!.Url.Host);
        var files = Enumerable.Range(0, 3).Select(i => Write($"f{i}.txt", $"file {i}\n")).ToArray();
        var (dropped, dropOutput, dropError) = await CliRunner.RunAsync(["drop", "logged/drop", .. files, "--wait", "--data", Data]);
        Assert.True(dropped == 0, dropOutput + dropError);

        var (_, status, _) = await CliRunner.RunAsync("status", "logged", "--data", Data);
        Assert.Contains("TIME p50/max", status, StringComparison.Ordinal);
        Assert.Matches(@"shout +command +AllNew .* 3 +\d+(ms|\.\ds)/\d+(ms|\.\ds)", status); // how long its three executions took
        Assert.Matches(@"drop +FileDrop .* - *\n", status);

        var (code, listing, more) = await CliRunner.RunAsync("values", "logged/shout", "--limit", "2", "--data", Data);
        Assert.Equal(0, code);
        var rows = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Contains("FILE 2", rows[0], StringComparison.Ordinal); // newest first
        Assert.Contains("FILE 1", rows[1], StringComparison.Ordinal);
        Assert.Contains("there are more", more, StringComparison.Ordinal);
        var newest = rows[0].Split(' ')[0];

        Assert.Equal("FILE 2\n", (await CliRunner.RunAsync("cat", newest[..12], "--data", Data)).Output); // a short id, as lineage prints them
        var (logCode, log, header) = await CliRunner.RunAsync("logs", newest[..10], "--data", Data);
        Assert.True(logCode == 0, header);
        Assert.Equal("shouting file 2\nto stderr\n", log);
        Assert.Matches(@"^logged/shout execution \w+: snapshot \w+ attempt 1 succeeded \(exit 0\) in \d+ ms on ", header);

        var (_, task, _) = await CliRunner.RunAsync("logs", "logged/shout", "--limit", "2", "--data", Data);
        Assert.Equal(2, task.Split('\n').Count(l => l.StartsWith("==> logged/shout execution ", StringComparison.Ordinal)));
        Assert.True(task.IndexOf("shouting file 1", StringComparison.Ordinal) < task.IndexOf("shouting file 2", StringComparison.Ordinal), task); // oldest of them first
        Assert.DoesNotContain("shouting file 0", task, StringComparison.Ordinal);

        var dropValue = (await CliRunner.RunAsync("values", "logged/drop", "--limit", "1", "--data", Data)).Output.Split('\n')[1].Split(' ')[0];
        var (notMade, _, why) = await CliRunner.RunAsync("logs", dropValue, "--data", Data);
        Assert.Equal((1, true), (notMade, why.Contains("was not made by an execution", StringComparison.Ordinal)));
        var (unknown, _, what) = await CliRunner.RunAsync("logs", "nothing-like-it", "--data", Data);
        Assert.Equal((1, "koalja: 'nothing-like-it' is neither an execution nor a value\n"), (unknown, what));
        Assert.Contains("--limit 0 is not 1 to 1000", (await CliRunner.RunAsync("values", "logged/shout", "--limit", "0", "--data", Data)).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownOptionOrCommandIsNamedWithWhereToReadMoreNotTheWholeHelp()
    {
        var (code, output, error) = await CliRunner.RunAsync("status", "--bogus", "--data", Data);
        Assert.Equal((1, ""), (code, output));
        Assert.Equal("koalja: Unknown option '--bogus'\nSee 'koalja status --help'.\n", error);

        var (typo, typoOutput, typoError) = await CliRunner.RunAsync("stauts");
        Assert.Equal((1, ""), (typo, typoOutput));
        Assert.Contains("'stauts'", typoError, StringComparison.Ordinal);
        Assert.EndsWith("See 'koalja --help'.\n", typoError, StringComparison.Ordinal);
        Assert.True(typoError.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length <= 3, typoError);

        Assert.Contains("Usage:", (await CliRunner.RunAsync("status", "--help")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogsFollowPrintsExecutionsAsTheyFinish()
    {
        using var output = new StringWriter();
        var stdout = TextWriter.Synchronized(output);
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var errors = new StringWriter();
        var stderr = TextWriter.Synchronized(errors);
        var follow = CliApp.RunAsync(["logs", "logged/shout", "--follow", "--data", Data], stdout, stderr, stop.Token);
        await Task.Delay(700); // the first poll has seen no execution
        Assert.Equal(0, (await CliRunner.RunAsync("drop", "logged/drop", Write("late.txt", "late one\n"), "--data", Data)).ExitCode);
        string Printed()
        {
            lock (stdout) // TextWriter.Synchronized locks on itself
            {
                return output.ToString();
            }
        }

        while (!Printed().Contains("shouting late one", StringComparison.Ordinal))
        {
            Assert.False(follow.IsCompleted, Printed());
            await Task.Delay(100, stop.Token);
        }

        await stop.CancelAsync();
        var code = await follow;
        lock (stderr)
        {
            Assert.True(code == 0, errors.ToString());
        }

        Assert.Single(Printed().Split('\n'), l => l.StartsWith("==> logged/shout execution ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AServerNamedByUrlGetsTheKeyGivenAndSaysWhatIsMissingWithout()
    {
        var elsewhere = Path.Combine(_dir, "other-data");
        var url = $"http://127.0.0.1:{_server!.Url.Port}/";
        var (refused, _, why) = await CliRunner.RunAsync("status", "logged", "--url", url, "--data", elsewhere);
        Assert.Equal(1, refused);
        Assert.Contains("401", why, StringComparison.Ordinal);
        Assert.Contains("pass --key KEY or set KOALJA_KEY", why, StringComparison.Ordinal);

        using var keys = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Data, "keys.json")));
        var (code, status, error) = await CliRunner.RunAsync("status", "logged", "--url", url, "--data", elsewhere, "--key", keys.RootElement.GetProperty("function").GetString()!);
        Assert.True(code == 0, error);
        Assert.Contains("pipeline logged", status, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetryAndDiscardActOnDeadLetters()
    {
        var file = Path.Combine(_dir, "failing.yaml");
        await File.WriteAllTextAsync(file, (await File.ReadAllTextAsync(PipelineFile)).Replace("name: logged", "name: failing", StringComparison.Ordinal)
            .Replace("tr a-z A-Z <", "exit 9; cat", StringComparison.Ordinal));
        var data = Path.Combine(_dir, "failing-data");
        await using var server = await LocalServer.StartAsync(new LocalServerOptions
        {
            DataDirectory = data,
            Runtime = new RuntimeOptions { MaxAttempts = 1 },
        }, [PipelineLoader.LoadFile(file).Pipelines[0].Pipeline]);
        var (dropped, _, _) = await CliRunner.RunAsync("drop", "failing/drop", Write("bad.txt", "bad\n"), "--wait", "--data", data);
        Assert.Equal(1, dropped); // --wait says a snapshot was dead-lettered

        var (_, status, _) = await CliRunner.RunAsync("status", "failing", "--data", data);
        Assert.Contains("dead letter: shout snapshot ", status, StringComparison.Ordinal);
        Assert.Contains("once fixed: koalja retry failing[/TASK]", status, StringComparison.Ordinal);

        var (retried, retryOutput, retryError) = await CliRunner.RunAsync("retry", "failing/shout", "--data", data);
        Assert.True(retried == 0, retryError);
        Assert.Contains("retried: failing/shout snapshot ", retryOutput, StringComparison.Ordinal);
        Assert.Contains("1 dead letter(s) retried", retryOutput, StringComparison.Ordinal);
        var (unknownCode, _, unknown) = await CliRunner.RunAsync("retry", "failing/shout", "--snapshot", "nope", "--data", data);
        Assert.Equal(1, unknownCode);
        Assert.Contains("404 Not a dead letter of failing/shout: nope", unknown, StringComparison.Ordinal);

        // It fails again (the code is still broken): dead-lettered again, then given up on.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(await CliRunner.RunAsync("status", "failing", "--data", data)).Output.Contains("dead letter: shout", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline);
            await Task.Delay(100);
        }

        var (discarded, discardOutput, _) = await CliRunner.RunAsync("discard", "failing", "--data", data);
        Assert.Equal(0, discarded);
        Assert.Contains("1 dead letter(s) discarded", discardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("dead letter:", (await CliRunner.RunAsync("status", "failing", "--data", data)).Output, StringComparison.Ordinal);
        Assert.Contains("no dead letters of failing to discard", (await CliRunner.RunAsync("discard", "failing", "--data", data)).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpNamesEachTaskThatWillNotRunAsWrittenAndWhatHappensInstead()
    {
        var file = Path.Combine(_dir, "original.yaml");
        await File.WriteAllTextAsync(file, """
            apiVersion: koalja.aljabr.io/v1alpha1
            kind: Pipeline
            metadata: {name: original}
            spec:
              tasks:
              - name: queryURLs
                type: DBQuery
                outputs: [{name: urls, typeRef: doc, ready: Auto, options: {query: "FOR d IN Urls RETURN d"}}]
              - name: extract
                type: JSONQuery
                inputs: [{name: json, typeRef: doc}]
                outputs: [{name: url, typeRef: doc, ready: Auto, options: {query: ".url"}}]
              - name: serve
                launchPolicy: Restart
                service: {ports: [{name: http, port: 8080}]}
                inputs: [{name: in, typeRef: doc}]
                outputs: [{name: out, typeRef: doc}]
                executor: {image: alpine, command: ["/bin/sh", "-c", "cp {{.inputs.in.path}} {{.outputs.out.path}}"]}
              links:
              - {name: a, sourceRef: queryURLs/urls, destinationRef: extract/json}
              - {name: b, sourceRef: extract/url, destinationRef: serve/in}
              types: [{name: doc, protocol: File, format: JSON}]
            """);
        var data = Path.Combine(_dir, "original-data");
        using var output = new StringWriter();
        var stdout = TextWriter.Synchronized(output);
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var up = CliApp.RunAsync(["up", file, "--data", data], stdout, TextWriter.Null, stop.Token);
        while (!File.Exists(Path.Combine(data, "server.json")) && !up.IsCompleted)
        {
            await Task.Delay(50, stop.Token);
        }

        await stop.CancelAsync();
        await up;
        string printed;
        lock (stdout)
        {
            printed = output.ToString();
        }

        Assert.Contains("warning: original/queryURLs: task type 'DBQuery' has no inputs and does not run locally: it produces nothing", printed, StringComparison.Ordinal);
        Assert.Contains("warning: original/extract: task type 'JSONQuery' does not run locally; each of its snapshots is dead-lettered at once, without retries", printed, StringComparison.Ordinal);
        Assert.Contains("note: original/serve: launchPolicy Restart with a service is not run as a long-running service here: its command runs once per snapshot", printed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DropWaitFollowsItsOwnDropsAndSaysWhatWaitsForOtherValues()
    {
        var data = Path.Combine(_dir, "wait-data");
        var examples = Path.Combine(CliRunner.RepositoryRoot, "examples");
        await using var server = await LocalServer.StartAsync(new LocalServerOptions { DataDirectory = data },
            [PipelineLoader.LoadFile(Path.Combine(examples, "linecount.yaml")).Pipelines[0].Pipeline, PipelineLoader.LoadFile(Path.Combine(examples, "linecount-batch2.yaml")).Pipelines[0].Pipeline]);

        // Each run counts the snapshots of its own drops (two per file here), not the pipeline's so far.
        var first = await CliRunner.RunAsync("drop", "linecount/fileDropInput", Write("a.txt", "a\na\n"), "--wait", "--data", data);
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Contains("finished: 2 snapshot(s) done", first.Error, StringComparison.Ordinal);
        var second = await CliRunner.RunAsync("drop", "linecount/fileDropInput", Write("b.txt", "b\n"), Write("c.txt", "c\n"), "--wait", "--data", data);
        Assert.Contains("finished: 4 snapshot(s) done", second.Error, StringComparison.Ordinal);

        // A batch of two: one file alone waits for its partner, and --wait says so instead of waiting forever.
        var alone = await CliRunner.RunAsync("drop", "linecount-batch2/fileDropInput", Write("d.txt", "d\n"), "--wait", "--data", data);
        Assert.Equal(0, alone.ExitCode);
        Assert.Contains("finished: 0 snapshot(s) done", alone.Error, StringComparison.Ordinal);
        Assert.Contains("waiting: 1 value(s) in linecount-batch2/removeDuplicates input inputFile wait for other values before it runs", alone.Output, StringComparison.Ordinal);
        var partner = await CliRunner.RunAsync("drop", "linecount-batch2/fileDropInput", Write("e.txt", "e\n"), "--wait", "--data", data);
        Assert.Contains("finished: 2 snapshot(s) done", partner.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("waiting:", partner.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APausedPipelineTakesDropsRunsNothingStaysPausedAcrossARestartAndRunsWhenResumed()
    {
        var data = Path.Combine(_dir, "pause-data");
        var pipeline = PipelineLoader.LoadFile(PipelineFile).Pipelines[0].Pipeline;
        var options = new LocalServerOptions { DataDirectory = data };
        await using (var first = await LocalServer.StartAsync(options, [pipeline]))
        {
            var (paused, pauseOutput, pauseError) = await CliRunner.RunAsync("pause", "logged", "--data", data);
            Assert.True(paused == 0, pauseError);
            Assert.Contains("logged is paused (since ", pauseOutput, StringComparison.Ordinal);
            Assert.Equal(0, (await CliRunner.RunAsync("drop", "logged/drop", Write("held.txt", "held\n"), "--data", data)).ExitCode);
            await Task.Delay(500);
            Assert.Contains("has no executions yet", (await CliRunner.RunAsync("logs", "logged/shout", "--data", data)).Output, StringComparison.Ordinal);
            Assert.Matches(@"logged +\w+ +2 +1 +1 +1 +0 +0 +paused since ", (await CliRunner.RunAsync("pipelines", "--data", data)).Output);
        }

        await using var second = await LocalServer.StartAsync(options, [pipeline]);
        var (_, status, _) = await CliRunner.RunAsync("status", "logged", "--data", data);
        Assert.Contains("— paused since ", status, StringComparison.Ordinal); // still paused after the restart
        await Task.Delay(300);
        Assert.Contains("has no executions yet", (await CliRunner.RunAsync("logs", "logged/shout", "--data", data)).Output, StringComparison.Ordinal);

        Assert.Contains("logged runs", (await CliRunner.RunAsync("resume", "logged", "--data", data)).Output, StringComparison.Ordinal);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(await CliRunner.RunAsync("logs", "logged/shout", "--data", data)).Output.Contains("shouting held", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "the held drop did not run after resume");
            await Task.Delay(100);
        }

        Assert.Contains("running", (await CliRunner.RunAsync("pipelines", "--data", data)).Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--port", "99999", "--port 99999 is not a port (1 to 65535; leave it out for a free one)")]
    [InlineData("--slots", "0", "--slots 0: 1 to 1024 parallel executions per task")]
    [InlineData("--timeout", "-5", "--timeout -5: 1 to 604800 seconds an execution may run")]
    [InlineData("--max-attempts", "0", "--max-attempts 0: 1 to 1000 executions of a snapshot")]
    [InlineData("--retry-delay", "-1", "--retry-delay -1: 0 to 86400 seconds")]
    [InlineData("--dataref-allow", "10.1.0.0/8", "DataRefAllow (--dataref-allow) '10.1.0.0/8' is neither a CIDR range with its host bits zero (10.0.0.0/8, fd00::/8), an IP address, nor a host name")]
    public async Task UpRefusesAnOptionOutOfRangeInOneLine(string option, string value, string message)
    {
        var (code, _, error) = await CliRunner.RunAsync("up", PipelineFile, option, value, "--data", Path.Combine(_dir, "unused"));
        Assert.Equal((1, $"koalja: {message}\n"), (code, error));
        Assert.False(Directory.Exists(Path.Combine(_dir, "unused")));
    }

    [Fact]
    public async Task UpOnAPortInUseSaysSoInOneLineWithoutAStackTrace()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var (code, output, error) = await CliRunner.RunScriptAsync(_dir, "up", PipelineFile, "--port", $"{port}", "--data", Path.Combine(_dir, "busy"));
        Assert.Equal(1, code);
        Assert.Contains("address already in use", error, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", output + error, StringComparison.Ordinal);
        // The script may say it builds the tool first; the pipeline's note about its image; then the one line.
        var lines = (output + error).Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("koalja: building", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count == 2 && lines[0].StartsWith("note: ", StringComparison.Ordinal), output + error);
    }

    [Fact]
    public async Task UpPrintsALineForEachExecution()
    {
        var data = Path.Combine(_dir, "up-data");
        var start = new System.Diagnostics.ProcessStartInfo(Path.Combine(CliRunner.RepositoryRoot, "koalja")) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir };
        foreach (var arg in new[] { "up", PipelineFile, "--data", data })
        {
            start.ArgumentList.Add(arg);
        }

        using var up = System.Diagnostics.Process.Start(start)!;
        var printed = new System.Text.StringBuilder();
        up.OutputDataReceived += (_, e) => { lock (printed) { printed.AppendLine(e.Data); } };
        up.ErrorDataReceived += (_, e) => { lock (printed) { printed.AppendLine(e.Data); } };
        up.BeginOutputReadLine();
        up.BeginErrorReadLine();
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (!File.Exists(Path.Combine(data, "server.json")))
            {
                Assert.True(DateTime.UtcNow < deadline && !up.HasExited, printed.ToString());
                await Task.Delay(100);
            }

            Assert.Equal(0, (await CliRunner.RunAsync("drop", "logged/drop", Write("one.txt", "one\n"), "--wait", "--data", data)).ExitCode);
            string Printed()
            {
                lock (printed)
                {
                    return printed.ToString();
                }
            }

            while (!System.Text.RegularExpressions.Regex.IsMatch(Printed(), @"\d\d:\d\d:\d\d logged/shout: snapshot \w+ attempt 1 succeeded in \d+ ms on \S+ \(execution \w+\)"))
            {
                Assert.True(DateTime.UtcNow < deadline, Printed());
                await Task.Delay(100);
            }
        }
        finally
        {
            up.Kill(entireProcessTree: true);
            await up.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task ACommandFindsScriptsBesideThePipelineFileByItsFolder()
    {
        var folder = Path.Combine(_dir, "project with space");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "count.sh"), "wc -l < \"$1\" | tr -d ' ' > \"$2\"\n");
        await File.WriteAllTextAsync(Path.Combine(folder, "label.txt"), "lines:");
        var file = Path.Combine(folder, "scripts.yaml");
        await File.WriteAllTextAsync(file, """
            apiVersion: koalja.aljabr.io/v1alpha1
            kind: Pipeline
            metadata: {name: scripts}
            spec:
              tasks:
              - {name: drop, type: FileDrop, outputs: [{name: file, typeRef: text}]}
              - name: count
                inputs: [{name: in, typeRef: text}]
                outputs: [{name: n, typeRef: text}]
                executor: {image: alpine, command: ["/bin/sh", "{{.pipeline.dir}}/count.sh", "{{.inputs.in.path}}", "{{.outputs.n.path}}"]}
              - name: label
                inputs: [{name: n, typeRef: text}]
                outputs: [{name: out, typeRef: text}]
                executor: {image: alpine, command: ["/bin/sh", "-c", "printf '%s %s\n' \"$(cat \"$KOALJA_PIPELINE_DIR/label.txt\")\" \"$(cat {{.inputs.n.path}})\" > {{.outputs.out.path}}"]}
              links:
              - {name: a, sourceRef: drop/file, destinationRef: count/in}
              - {name: b, sourceRef: count/n, destinationRef: label/n}
              types: [{name: text, protocol: File, format: Text}]
            """);
        var data = Path.Combine(_dir, "scripts-data");
        await using var server = await LocalServer.StartAsync(new LocalServerOptions { DataDirectory = data }, [PipelineLoader.LoadFile(file).Pipelines[0].Pipeline]);

        var (code, output, error) = await CliRunner.RunAsync("drop", "scripts/drop", Write("three.txt", "a\nb\nc\n"), "--wait", "--data", data);
        Assert.True(code == 0, output + error);
        var value = (await CliRunner.RunAsync("values", "scripts/label", "--data", data)).Output.Split('\n')[1].Split(' ')[0];
        Assert.Equal("lines: 3\n", (await CliRunner.RunAsync("cat", value, "--data", data)).Output);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}
