using System.Diagnostics;
using System.Net;
using Koalja.Functions.Host;
using Microsoft.Extensions.Logging;

namespace Koalja.Functions.Tests;

/// <summary>Worker processes under the protocol host: restarted when they die, drained and gone when the host stops, a start that fails says why.</summary>
public sealed class SupervisionTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("koalja-fn-supervision-").FullName;
    private readonly CapturingLoggerProvider _logs = new();
    private readonly ILoggerFactory _factory;

    public SupervisionTests() => _factory = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Debug));

    [Fact]
    public async Task AWorkerKilledWhileIdleIsAnsweredWith503UntilItIsBackInANewProcess()
    {
        var host = await StartAsync("killed");
        var first = host.ProcessId("killed");
        using var http = new HttpClient { BaseAddress = host.BaseUrl("killed") };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/health")).StatusCode);

        Process.GetProcessById(first).Kill(); // SIGKILL
        var statuses = new List<HttpStatusCode>();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var response = await http.GetAsync("api/health");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the worker did not come back within 60 s");
            await Task.Delay(50);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, statuses[0]); // the first request after the kill is not lost in a dead stream
        var second = host.ProcessId("killed");
        Assert.NotEqual(first, second);
        Assert.False(Processes.Alive(first));
        var restart = Assert.Single(_logs.Entries, e => e.Message.Contains("exited with code", StringComparison.Ordinal));
        Assert.Equal(("137", first.ToString(System.Globalization.CultureInfo.InvariantCulture)), (restart.Values["ExitCode"], restart.Values["Pid"]));

        await host.DisposeAsync();
        Assert.False(Processes.Alive(second), $"worker process {second} outlived DisposeAsync");
    }

    [Fact]
    public async Task DisposingDrainsTheInvocationInFlightThenLeavesNoWorkerProcess()
    {
        var host = await StartAsync("drained");
        var pid = host.ProcessId("drained");
        using var http = new HttpClient { BaseAddress = host.BaseUrl("drained") };
        var marker = $"koalja-drain-{Guid.NewGuid():N}";
        using var snapshot = await Snapshots.EventAsync(TaskFunctionApp.StorePath(_root), $"sleep 2; echo {marker} > {{{{.outputs.out.path}}}}", "snap-drain");
        var request = http.PostAsync("api/snapshot", snapshot);
        await Processes.WaitForAsync(marker, TimeSpan.FromSeconds(20));

        await host.DisposeAsync();

        using var response = await request;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode); // answered by the worker, not cut off by the stop
        Assert.False(Processes.Alive(pid), $"worker process {pid} outlived DisposeAsync");
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("api/health"));
    }

    [Fact]
    public async Task AWorkerThatCannotStartFailsTheStartNamingItAndWhatItPrinted()
    {
        // Without a store the task function refuses to start: it says so on stderr and exits with code 2.
        var spec = new WorkerSpec("no-store", TaskFunctionApp.Directory, new Dictionary<string, string>
        {
            ["KOALJA_STORAGE"] = "",
            ["STORAGETYPE"] = "",
            ["KOALJA_LOCAL_PATH"] = "",
        });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            LocalFunctionsHost.StartAsync([spec], new FunctionsHostOptions { StartTimeout = TimeSpan.FromSeconds(30) }, _factory, CancellationToken.None));

        Assert.Contains("'no-store'", error.Message, StringComparison.Ordinal);
        Assert.Contains("exited with code 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("stderr: koalja task function: The task function reads and writes values", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWorkerThatIsNotReadyInTimeFailsTheStartAndIsKilled()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            LocalFunctionsHost.StartAsync([TaskFunctionApp.Worker("slow", _root)], new FunctionsHostOptions { StartTimeout = TimeSpan.FromMilliseconds(50) }, _factory, CancellationToken.None));

        Assert.Contains("'slow'", error.Message, StringComparison.Ordinal);
        Assert.Contains("not ready within 0.1 s", error.Message, StringComparison.Ordinal);
        var started = Assert.Single(_logs.Entries, e => e.Message.StartsWith("Starting Functions worker slow", StringComparison.Ordinal));
        Assert.False(Processes.Alive(int.Parse(started.Values["Pid"]!, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Theory]
    [InlineData("Tasks", "not usable")]
    [InlineData("a_b", "not usable")]
    [InlineData("-a", "not usable")]
    [InlineData("", "not usable")]
    [InlineData("a-very-long-name-that-is-longer-than-sixty-three-characters-in-all", "not usable")]
    [InlineData("ok", "does not exist")]
    public async Task AWorkerSpecThatCannotWorkIsRefusedBeforeAnythingStarts(string name, string problem)
    {
        var spec = problem == "does not exist" ? new WorkerSpec(name, Path.Combine(_root, "missing"), new Dictionary<string, string>()) : TaskFunctionApp.Worker(name, _root);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => LocalFunctionsHost.StartAsync([spec], new FunctionsHostOptions(), _factory, CancellationToken.None));

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_logs.Entries, e => e.Message.StartsWith("Starting Functions worker", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TwoWorkersWithOneNameAreRefused()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            LocalFunctionsHost.StartAsync([TaskFunctionApp.Worker("twin", _root), TaskFunctionApp.Worker("twin", _root)], new FunctionsHostOptions(), _factory, CancellationToken.None));

        Assert.Contains("Two workers are named 'twin'", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _factory.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private Task<LocalFunctionsHost> StartAsync(string name) =>
        LocalFunctionsHost.StartAsync([TaskFunctionApp.Worker(name, _root)], new FunctionsHostOptions(), _factory, CancellationToken.None);
}
