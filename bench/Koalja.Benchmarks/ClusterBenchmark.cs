using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Koalja.Core.Loading;
using Koalja.Router.Api;
using Koalja.Router.Hosting;
using Koalja.Router.Runtime;
using Koalja.Testing;

namespace Koalja.Benchmarks;

/// <summary>
/// Koalja on a real single-node Kubernetes (infra/dev-cluster: the operator, the router and the task functions in pods,
/// the registry in PostgreSQL, values in Ceph RGW) next to <c>koalja up</c> on the same machine in the same run: the
/// time from <c>kubectl apply</c> to <c>Ready</c>, and many files through linecount by HTTP (8 at a time) until every
/// final output is recorded — on the node (by the router's pod IP), on <c>koalja up</c> with the same PostgreSQL and
/// RGW, and on <c>koalja up</c> as a new user runs it (SQLite, local files). Each run starts with 10 drops to warm up.
/// </summary>
internal static class ClusterBenchmark
{
    private const string Ns = "bench";
    private const string Pipeline = "linecount";
    private const int Warmup = 10;

    public static async Task<int> RunAsync(string[] args)
    {
        var files = RuntimeBenchmark.Arg(args, "--files", 1000);
        if (DevCluster.CannotRun is { } why)
        {
            Console.Error.WriteLine($"bench/cluster: this machine cannot run a Kubernetes node: {why}");
            return 1;
        }

        var example = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "examples", "linecount.yaml"));
        Console.WriteLine($"Koalja cluster benchmark: {Environment.ProcessorCount} cores, {files} files through linecount, 8 drops at a time");
        Console.WriteLine("starting a node and installing Koalja (Release images) ...");
        TimeSpan applyToReady, node, upSame, upLocal;
        await using (var cluster = await DevCluster.StartAsync([Ns], "Release"))
        {
            Console.Write(cluster.Timings);
            var clock = Stopwatch.StartNew();
            cluster.Kubectl(example, "-n", Ns, "apply", "-f", "-");
            await cluster.StatusAsync(Ns, Pipeline, s => DevCluster.Condition(s, "Ready")?["status"]?.GetValue<string>() == "True", TimeSpan.FromMinutes(5));
            applyToReady = clock.Elapsed;
            Console.WriteLine($"apply -> Ready: {applyToReady.TotalSeconds:F1} s");
            using (var http = new HttpClient { BaseAddress = new Uri($"http://{await cluster.RouterAsync(Ns, Pipeline, TimeSpan.FromMinutes(3))}:8080/"), Timeout = TimeSpan.FromMinutes(1) })
            {
                http.DefaultRequestHeaders.Add("x-functions-key", cluster.AdminKey(Ns, Pipeline));
                node = await DropAllAsync("node", http, files);
            }

            var settings = File.ReadAllLines(Path.Combine(cluster.Directory, "koalja.env")).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            using var database = new PostgresDatabase(settings["KOALJA_TEST_NODE_POSTGRES"]);
            var storage = $"s3://koalja/bench-up-{Guid.NewGuid():N}?endpoint={settings["KOALJA_TEST_NODE_S3_ENDPOINT"]}";
            string? Environment(string name) => name switch
            {
                "S3_ACCESS_KEY" => settings["KOALJA_TEST_NODE_S3_ACCESS_KEY"],
                "S3_SECRET_KEY" => settings["KOALJA_TEST_NODE_S3_SECRET_KEY"],
                "AWS_EC2_METADATA_DISABLED" => "true",
                _ => System.Environment.GetEnvironmentVariable(name),
            };
            upSame = await UpAsync("koalja up, PostgreSQL + RGW", files, o => o with { Registry = database.Url, Storage = storage, Environment = Environment });
        }

        upLocal = await UpAsync("koalja up, SQLite + local files", files, o => o);
        Console.WriteLine();
        Console.WriteLine("| measurement | value |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine($"| kubectl apply → Ready (router and 2 task pods) | {applyToReady.TotalSeconds:F1} s |");
        Console.WriteLine($"| {files} files, node (router + task function pods, PostgreSQL, RGW) | {node.TotalSeconds:F2} s ({files / node.TotalSeconds:F0} files/s) |");
        Console.WriteLine($"| {files} files, koalja up with the same PostgreSQL and RGW | {upSame.TotalSeconds:F2} s ({files / upSame.TotalSeconds:F0} files/s) |");
        Console.WriteLine($"| {files} files, koalja up (SQLite, local files) | {upLocal.TotalSeconds:F2} s ({files / upLocal.TotalSeconds:F0} files/s) |");
        Console.WriteLine($"| node / koalja up with the same servers | {node / upSame:F2}× |");
        return 0;
    }

    private static async Task<TimeSpan> UpAsync(string name, int files, Func<LocalServerOptions, LocalServerOptions> configure)
    {
        var data = Directory.CreateTempSubdirectory("koalja-bench-cluster-").FullName;
        try
        {
            var pipeline = PipelineLoader.LoadFile(Path.Combine(Repository.Root, "examples", "linecount.yaml")).Pipelines[0].Pipeline;
            var options = configure(new LocalServerOptions { DataDirectory = data, Runtime = new RuntimeOptions { SlotsPerTask = System.Environment.ProcessorCount } });
            await using var server = await LocalServer.StartAsync(options, [pipeline]);
            using var http = new HttpClient { BaseAddress = server.Url };
            return await DropAllAsync(name, http, files);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>Warm-up drops one by one, then <paramref name="files"/> drops 8 at a time; the time until every final output is recorded.</summary>
    private static async Task<TimeSpan> DropAllAsync(string name, HttpClient http, int files)
    {
        for (var i = 0; i < Warmup; i++)
        {
            await DropAsync(http, -1 - i);
            await UntilFinalsAsync(http, i + 1);
        }

        Console.WriteLine($"{name}: {files} files ...");
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, files), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) => await DropAsync(http, i));
        var dropped = watch.Elapsed;
        await UntilFinalsAsync(http, Warmup + files);
        watch.Stop();
        Console.WriteLine($"{name}: dropped in {dropped.TotalSeconds:F2} s, every final output in {watch.Elapsed.TotalSeconds:F2} s");
        return watch.Elapsed;
    }

    private static async Task DropAsync(HttpClient http, int i)
    {
        using var response = await http.PostAsync($"pipelines/{Pipeline}/fileDropInput", new StringContent(RuntimeBenchmark.Content(i), Encoding.UTF8));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Polls the pipeline's status (every 50 ms) until its last task has recorded <paramref name="count"/> values.</summary>
    private static async Task UntilFinalsAsync(HttpClient http, long count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(30);
        while (true)
        {
            var status = JsonSerializer.Deserialize(await http.GetStringAsync($"api/pipelines/{Pipeline}"), ApiJsonContext.Default.PipelineDto)!;
            var finals = status.Tasks.Single(t => t.Name == "countLines").Values;
            if (finals >= count)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{finals} of {count} final outputs after 30 minutes");
            }

            await Task.Delay(50);
        }
    }
}
