using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Koalja.Router.Tests;

/// <summary>
/// Durability: `koalja up` as a real process, killed with SIGKILL in the middle of 200 drops, then
/// started again on the same data directory. Drops are retried with their idempotency keys, as the
/// CLI does; every acknowledged value survives, nothing is recorded twice, every pending snapshot finishes.
/// </summary>
public sealed class CrashTests : IDisposable
{
    private const int Files = 200;
    private readonly string _data = Directory.CreateTempSubdirectory("koalja-crash-").FullName;
    private readonly List<Process> _processes = [];
    private readonly List<string> _backendArgs = [];
    private readonly Dictionary<string, string> _environment = [];
    private Testing.PostgresDatabase? _database;

    public void Dispose()
    {
        _database?.Dispose();
        foreach (var process in _processes.Where(p => !p.HasExited))
        {
            process.Kill(entireProcessTree: true);
        }

        Directory.Delete(_data, recursive: true);
    }

    [Theory]
    [InlineData("local")]
    [InlineData("s3+postgres")]
    public async Task AfterAKillMidWayEveryDropEndsInExactlyOneFinalOutputWithCompleteLineage(string backends)
    {
        if (backends == "s3+postgres")
        {
            _database = new Testing.PostgresDatabase(Testing.TestServers.Postgres);
            _backendArgs.AddRange(["--registry", _database.Url, "--storage", $"s3://{await Testing.TestS3.BucketAsync("koalja-operator-tests")}/crash-{Guid.NewGuid():N}?endpoint={Testing.TestServers.S3("ENDPOINT")}"]);
            _environment["S3_ACCESS_KEY"] = Testing.TestServers.S3("ACCESS_KEY");
            _environment["S3_SECRET_KEY"] = Testing.TestServers.S3("SECRET_KEY");
        }

        var first = await StartAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var acknowledged = 0;
        var killed = 0;
        // Eight drops in flight at a time; the kill lands while some are being recorded and others run.
        await Parallel.ForEachAsync(Enumerable.Range(0, Files), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            if (Volatile.Read(ref killed) == 1)
            {
                return;
            }

            try
            {
                await DropAsync(http, first.Url, i);
                if (Interlocked.Increment(ref acknowledged) == Files / 2 && Interlocked.Exchange(ref killed, 1) == 0)
                {
                    first.Process.Kill(); // SIGKILL: no shutdown code runs
                }
            }
            catch (HttpRequestException)
            {
                // in flight when the process died: not acknowledged, dropped again below
            }
        });
        await first.Process.WaitForExitAsync();

        Assert.True(acknowledged >= Files / 2);
        var second = await StartAsync();
        for (var i = 0; i < Files; i++)
        {
            await DropAsync(http, second.Url, i); // the first half again: the same keys give the same values
        }

        await WaitIdleAsync(http, second.Url);
        var counts = await ValuesAsync(http, second.Url, "countLines");
        Assert.Equal(Files, counts.Count);
        Assert.Equal(Files, (await ValuesAsync(http, second.Url, "fileDropInput")).Count);
        var drops = new HashSet<string>();
        foreach (var count in counts)
        {
            Assert.Equal("1", (await http.GetStringAsync($"{second.Url}/api/values/{count}/content")).Trim());
            var uniq = Assert.Single(await SourcesAsync(http, second.Url, count));
            drops.Add(Assert.Single(await SourcesAsync(http, second.Url, uniq)));
        }

        Assert.Equal(Files, drops.Count);
        second.Process.Kill();
        if (_database is not null)
        {
            // it really was the PostgreSQL registry that kept them
            using var connection = new Npgsql.NpgsqlConnection(_database.ConnectionString);
            connection.Open();
            using var command = new Npgsql.NpgsqlCommand("SELECT COUNT(*) FROM annotated_values WHERE pipeline = 'linecount'", connection);
            Assert.Equal(3L * Files, (long)command.ExecuteScalar()!);
        }
    }

    private static async Task DropAsync(HttpClient http, string url, int i)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{url}/pipelines/linecount/fileDropInput") { Content = new StringContent($"file {i}\n", Encoding.UTF8) };
        request.Headers.Add("Idempotency-Key", $"crash-{i}");
        using var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task WaitIdleAsync(HttpClient http, string url)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        var idle = 0;
        while (idle < 2)
        {
            var json = await http.GetFromJsonAsync<JsonElement>($"{url}/api/pipelines/linecount");
            var busy = json.GetProperty("tasks").EnumerateArray().Any(t => t.GetProperty("pending").GetInt64() > 0 || t.GetProperty("running").GetInt64() > 0);
            idle = busy ? 0 : idle + 1;
            Assert.True(DateTime.UtcNow < deadline, "the pipeline did not finish: " + json);
            await Task.Delay(100);
        }
    }

    private static async Task<List<string>> ValuesAsync(HttpClient http, string url, string task)
    {
        var page = await http.GetFromJsonAsync<JsonElement>($"{url}/api/pipelines/linecount/values?task={task}&limit=1000");
        return page.GetProperty("values").EnumerateArray().Select(v => v.GetProperty("id").GetString()!).ToList();
    }

    private static async Task<List<string>> SourcesAsync(HttpClient http, string url, string id)
    {
        var detail = await http.GetFromJsonAsync<JsonElement>($"{url}/api/values/{id}");
        return detail.GetProperty("inputs").EnumerateObject().SelectMany(i => i.Value.EnumerateArray().Select(v => v.GetProperty("id").GetString()!)).ToList();
    }

    private async Task<(Process Process, string Url)> StartAsync()
    {
        var root = KoaljaTestServer.RepositoryRoot;
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var cli = Path.Combine(root, "cli", "Koalja.Cli", "bin", configuration, "net10.0", "koalja.dll");
        Assert.True(File.Exists(cli), $"build the CLI first ({cli} is missing)");
        var serverFile = Path.Combine(_data, "server.json");
        File.Delete(serverFile);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root };
        foreach (var arg in new[] { cli, "up", Path.Combine(root, "examples", "linecount.yaml"), "--data", _data, "--retry-delay", "0.05" }.Concat(_backendArgs))
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in _environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        _processes.Add(process);
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var errors = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (errors) { errors.AppendLine(e.Data); } };
        while (!File.Exists(serverFile))
        {
            Assert.False(process.HasExited, "koalja up exited: " + errors);
            Assert.True(DateTime.UtcNow < deadline, "koalja up did not start");
            await Task.Delay(50);
        }

        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(serverFile));
        return (process, json.RootElement.GetProperty("url").GetString()!);
    }
}
