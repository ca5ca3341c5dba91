using System.Net;
using Koalja.Core.Loading;
using Koalja.Router.Hosting;

namespace Koalja.Cli.Tests;

/// <summary>
/// Reading commands after the server stopped (or was killed): <c>values</c>, <c>cat</c>, <c>status</c>, <c>lineage</c>,
/// <c>logs</c> and <c>pipelines</c> read the data directory through a read-only view, which changes nothing and keeps
/// no server out; commands that change something still need a server.
/// </summary>
public sealed class OfflineReadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("koalja-cli-offline-").FullName;

    private string Data => Path.Combine(_dir, ".koalja");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ReadingCommandsWorkOnADataDirectoryNoServerRunsOn()
    {
        var pipeline = PipelineLoader.LoadFile(Path.Combine(CliRunner.RepositoryRoot, "examples", "linecount.yaml")).Pipelines[0].Pipeline;
        var file = Path.Combine(_dir, "notes.txt");
        await File.WriteAllTextAsync(file, "one\ntwo\nthree\n");
        string final;
        string liveStatus;
        await using (var server = await LocalServer.StartAsync(new LocalServerOptions { DataDirectory = Data }, [pipeline]))
        {
            var (dropped, output, error) = await CliRunner.RunAsync("drop", "linecount/fileDropInput", file, "--wait", "--data", Data);
            Assert.True(dropped == 0, output + error);
            final = (await CliRunner.RunAsync("values", "linecount/countLines", "--data", Data)).Output.Split('\n')[1].Split(' ')[0];
            liveStatus = (await CliRunner.RunAsync("status", "linecount", "--data", Data)).Output;
        }

        // killed, not stopped: server.json stays behind, naming a server that is gone
        await File.WriteAllTextAsync(Path.Combine(Data, "server.json"), "{\"url\": \"http://127.0.0.1:9\", \"pid\": 999999}");

        var (code, values, note) = await CliRunner.RunAsync("values", "linecount/countLines", "--data", Data);
        Assert.True(code == 0, note);
        Assert.Contains(final, values, StringComparison.Ordinal);
        Assert.Equal($"koalja: no server runs on {Data}: showing what it recorded\n", note);

        Assert.Equal("3\n", (await CliRunner.RunAsync("cat", final[..12], "--data", Data)).Output);
        var status = (await CliRunner.RunAsync("status", "linecount", "--data", Data)).Output;
        Assert.Contains($" in {Data}, stopped\n", status, StringComparison.Ordinal);
        Assert.Equal(Tables(liveStatus), Tables(status)); // the same counts as the server showed
        var lineage = (await CliRunner.RunAsync("lineage", final, "--data", Data)).Output;
        Assert.Contains("notes.txt", lineage, StringComparison.Ordinal);
        var (logged, _, header) = await CliRunner.RunAsync("logs", final, "--data", Data);
        Assert.True(logged == 0, header);
        Assert.Matches(@"linecount/countLines execution \w+: snapshot \w+ attempt 1 succeeded", header);
        Assert.Matches(@"linecount +\w+ +3 +2 +3 +0 +0 +0 +stopped", (await CliRunner.RunAsync("pipelines", "--data", Data)).Output);

        var (follow, _, why) = await CliRunner.RunAsync("logs", "linecount/countLines", "--follow", "--data", Data);
        Assert.Equal(1, follow);
        Assert.Contains("--follow needs a running server", why, StringComparison.Ordinal);
        var (drop, _, refused) = await CliRunner.RunAsync("drop", "linecount/fileDropInput", file, "--data", Data);
        Assert.Equal(1, drop);
        Assert.Contains("Cannot reach the Koalja server at http://127.0.0.1:9/", refused, StringComparison.Ordinal);

        // A view keeps no server out, and refuses anything but reading.
        await using var view = await LocalServer.StartAsync(new LocalServerOptions { DataDirectory = Data, InspectOnly = true }, []);
        using var http = new HttpClient { BaseAddress = view.Url };
        using var post = await http.PostAsync(new Uri("pipelines/linecount/fileDropInput", UriKind.Relative), new StringContent("x"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, post.StatusCode);
        Assert.Contains("read-only view", await post.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await using (var again = await LocalServer.StartAsync(new LocalServerOptions { DataDirectory = Data }, [pipeline]))
        {
            Assert.Contains("running", (await CliRunner.RunAsync("pipelines", "--data", Data)).Output, StringComparison.Ordinal);
        }
    }

    /// <summary>The status tables, without the header line (which names the server) and the SLOTS column (live workers).</summary>
    private static string Tables(string status) => string.Join('\n', status.Split('\n').Skip(1).Select(l => System.Text.RegularExpressions.Regex.Replace(l, @" \d+/\d+ ", " S ")));

    [Fact]
    public async Task ADirectoryWithNoDataSaysSoAndIsNotCreated()
    {
        var nowhere = Path.Combine(_dir, "nothing-here");
        var (code, _, error) = await CliRunner.RunAsync("values", "linecount/countLines", "--data", nowhere);
        Assert.Equal(1, code);
        Assert.Contains("No running Koalja server found for data directory", error, StringComparison.Ordinal);
        Assert.Contains("it holds no data", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(nowhere));
    }
}
