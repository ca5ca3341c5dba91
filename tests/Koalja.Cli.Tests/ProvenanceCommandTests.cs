using Koalja.Core.Loading;
using Koalja.Router.Hosting;

namespace Koalja.Cli.Tests;

/// <summary><c>koalja code</c> and <c>koalja lineage</c> against a real local server, with the keys found in the data directory.</summary>
public sealed class ProvenanceCommandTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("koalja-cli-").FullName;
    private LocalServer? _server;

    private string Data => Path.Combine(_dir, ".koalja");

    public async Task InitializeAsync()
    {
        var pipeline = PipelineLoader.LoadFile(Path.Combine(Testing.Repository.Root, "examples", "linecount.yaml")).Pipelines[0].Pipeline;
        _server = await LocalServer.StartAsync(new LocalServerOptions { DataDirectory = Data }, [pipeline]);
    }

    public async Task DisposeAsync()
    {
        await _server!.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task CodeIsDroppedReplayedListedAndTheLineageTreeNamesIt()
    {
        var input = Write("in.txt", "a\na\nb\n");
        var script = Write("count.sh", "#!/bin/sh\nprintf 'lines: %s\\n' \"$(wc -l < \"$KOALJA_INPUT_INPUTFILE\")\" > \"$KOALJA_OUTPUT_OUTPUTFILE\"\n");
        Assert.Equal(0, (await CliRunner.RunAsync("drop", "linecount/fileDropInput", input, "--wait", "--data", Data)).ExitCode);

        var (dropped, dropOutput, dropError) = await CliRunner.RunAsync("code", "linecount/countLines", script, "--replay", "--data", Data);

        Assert.True(dropped == 0, dropError);
        Assert.Matches("code version [0-9a-f]{32} \\(script, entrypoint script\\.sh\\) is current for linecount/countLines", dropOutput);
        Assert.Contains("replayed 1 snapshot(s): 1 changed, 0 unchanged, 0 failed", dropOutput, StringComparison.Ordinal);
        var version = System.Text.RegularExpressions.Regex.Match(dropOutput, "code version ([0-9a-f]{32})").Groups[1].Value;

        Assert.Equal(0, (await CliRunner.RunAsync("drop", "linecount/fileDropInput", Write("in2.txt", "x\ny\n"), "--wait", "--data", Data)).ExitCode);
        var (_, list, _) = await CliRunner.RunAsync("code", "linecount/countLines", "--list", "--data", Data);
        Assert.Matches($"{version}  script .*1 +\\* +count.sh", list);

        var (_, values, _) = await CliRunner.RunAsync("values", "linecount/countLines", "--data", Data);
        var latest = values.Split('\n').Single(l => l.Contains("lines: 2", StringComparison.Ordinal)).Split(' ')[0];
        var (code, tree, error) = await CliRunner.RunAsync("lineage", latest, "--data", Data);

        Assert.True(code == 0, error);
        var lines = tree.TrimEnd().Split('\n');
        Assert.Equal(5, lines.Length);
        Assert.StartsWith($"{latest}  countLines.outputFile[0]", lines[0], StringComparison.Ordinal);
        Assert.Contains($"countLines  code {version[..12]}  attempt 1, exit 0", lines[1], StringComparison.Ordinal);
        Assert.Contains("└─ inputFile[0]: ", lines[2], StringComparison.Ordinal);
        Assert.Contains("fileDropInput.droppedFile[0] \"in2.txt\"", lines[4], StringComparison.Ordinal);

        var (_, prov, _) = await CliRunner.RunAsync("lineage", latest, "--format", "prov", "--data", Data);
        Assert.Contains("\"prov:Plan\"", prov, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutTheDataDirectorysKeysTheCodeDropIsRefusedWithTheReason()
    {
        var script = Write("count.sh", "#!/bin/sh\n");

        var (exitCode, _, error) = await CliRunner.RunAsync("code", "linecount/countLines", script, "--url", _server!.Url.ToString(), "--data", Path.Combine(_dir, "elsewhere"));

        Assert.Equal(1, exitCode);
        Assert.Contains("401 This needs the admin key", error, StringComparison.Ordinal);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}
