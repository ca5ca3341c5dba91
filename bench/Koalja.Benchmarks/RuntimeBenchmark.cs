using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Koalja.Core.Loading;
using Koalja.Router.Api;
using Koalja.Router.Hosting;
using Koalja.Router.Runtime;
using Koalja.Tasks.Sandboxing;

namespace Koalja.Benchmarks;

/// <summary>
/// The local runtime end to end (real HTTP, SQLite with synchronous=FULL, /bin/sh): (a) latency from a
/// drop to linecount's final output, over sequential drops; (b) many files through linecount, next to
/// the same shell commands run by <c>xargs -P &lt;cores&gt;</c> on the same files (the floor).
/// </summary>
internal static class RuntimeBenchmark
{
    internal static int Slots = Environment.ProcessorCount;

    public static async Task<int> RunAsync(string[] args)
    {
        Slots = Arg(args, "--slots", Environment.ProcessorCount);
        var latencyDrops = Arg(args, "--latency-drops", 200);
        var batchFiles = Arg(args, "--batch-files", 1000);
        var root = Koalja.Testing.Repository.Root;
        var scratch = Directory.CreateTempSubdirectory("koalja-bench-").FullName;
        try
        {
            Console.WriteLine($"Koalja runtime benchmark: {Environment.ProcessorCount} cores, linecount example, data in {scratch}");
            // Sandboxed (the default) and not, in the same run: one long-lived sandbox per slot must cost nothing per value.
            var latency = await LatencyAsync(root, Path.Combine(scratch, "latency"), latencyDrops);
            var bareLatency = await LatencyAsync(root, Path.Combine(scratch, "latency-bare"), latencyDrops, sandbox: SandboxMode.Off);
            var (koalja, values) = await BatchAsync(root, Path.Combine(scratch, "batch"), batchFiles);
            var (bare, _) = await BatchAsync(root, Path.Combine(scratch, "batch-bare"), batchFiles, sandbox: SandboxMode.Off);
            var floor = XargsFloor(Path.Combine(scratch, "xargs"), batchFiles);
            Console.WriteLine();
            Console.WriteLine("| measurement | value |");
            Console.WriteLine("|---|---:|");
            Console.WriteLine($"| (a) drop → final output, p50 over {latencyDrops} sequential drops | {latency.P50:F1} ms |");
            Console.WriteLine($"| (a) drop → final output, p99 | {latency.P99:F1} ms |");
            Console.WriteLine($"| (a) the same without the command sandbox (--sandbox off), p50 / p99 | {bareLatency.P50:F1} / {bareLatency.P99:F1} ms |");
            Console.WriteLine($"| (b) {batchFiles} files through linecount (Koalja, full provenance, sandboxed) | {koalja.TotalSeconds:F2} s |");
            Console.WriteLine($"| (b) the same without the command sandbox (--sandbox off) | {bare.TotalSeconds:F2} s |");
            Console.WriteLine($"| (b) sandboxed / without | {koalja / bare:F2}× |");
            Console.WriteLine($"| (b) same commands, xargs -P {Environment.ProcessorCount} (floor) | {floor.TotalSeconds:F2} s |");
            Console.WriteLine($"| (b) Koalja / floor | {koalja / floor:F2}× |");
            Console.WriteLine($"| (b) values recorded | {values} |");
            return 0;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    internal static async Task<(double P50, double P99)> LatencyAsync(string root, string data, int drops, LocalTaskHost host = LocalTaskHost.InProcess,
        string pipelineFile = "linecount.yaml", string pipeline = "linecount", string finalTask = "countLines", SandboxMode sandbox = SandboxMode.Auto)
    {
        await using var server = await StartAsync(root, data, host, pipelineFile, sandbox);
        using var http = new HttpClient { BaseAddress = server.Url };
        var final = new SemaphoreSlim(0);
        server.Router.ValueRecorded += v =>
        {
            if (v.Task == finalTask)
            {
                final.Release();
            }
        };
        var samples = new List<double>();
        for (var i = 0; i < drops + 10; i++)
        {
            var watch = Stopwatch.StartNew();
            using var response = await http.PostAsync($"pipelines/{pipeline}/fileDropInput", new StringContent($"a\na\nb{i}\n", Encoding.UTF8));
            response.EnsureSuccessStatusCode();
            await final.WaitAsync();
            if (i >= 10)
            {
                samples.Add(watch.Elapsed.TotalMilliseconds); // the first ten warm the JIT and caches
            }
        }

        samples.Sort();
        return (samples[samples.Count / 2], samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(samples.Count * 0.99) - 1)]);
    }

    internal static async Task<(TimeSpan Elapsed, long Values)> BatchAsync(string root, string data, int files, LocalTaskHost host = LocalTaskHost.InProcess, SandboxMode sandbox = SandboxMode.Auto)
    {
        await using var server = await StartAsync(root, data, host, sandbox: sandbox);
        Console.WriteLine($"batch{(sandbox == SandboxMode.Off ? " (no sandbox)" : "")}: {server.Isolation?.Description}");
        using var http = new HttpClient { BaseAddress = server.Url };
        var done = 0;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Router.ValueRecorded += v =>
        {
            if (v.Task == "countLines" && Interlocked.Increment(ref done) == files)
            {
                all.TrySetResult();
            }
        };
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var (gen0, gen2, allocated) = (GC.CollectionCount(0), GC.CollectionCount(2), GC.GetTotalAllocatedBytes());
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, files), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            using var response = await http.PostAsync("pipelines/linecount/fileDropInput", new StringContent(Content(i), Encoding.UTF8), ct);
            response.EnsureSuccessStatusCode();
        });
        await all.Task;
        watch.Stop();
        Console.WriteLine($"batch: {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F2} s of CPU in the Koalja process (commands not included) over {watch.Elapsed.TotalSeconds:F2} s; GCs gen0 {GC.CollectionCount(0) - gen0}, gen2 {GC.CollectionCount(2) - gen2}, {(GC.GetTotalAllocatedBytes() - allocated) >> 20} MiB allocated");
        var status = JsonSerializer.Deserialize(await http.GetStringAsync("api/pipelines/linecount"), ApiJsonContext.Default.PipelineDto)!;
        var values = status.Tasks.Sum(t => t.Values);
        return (watch.Elapsed, values);
    }

    private static TimeSpan XargsFloor(string directory, int files)
    {
        Directory.CreateDirectory(directory);
        for (var i = 0; i < files; i++)
        {
            File.WriteAllText(Path.Combine(directory, $"f{i:D5}.txt"), Content(i));
        }

        var cores = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture);
        var watch = Stopwatch.StartNew();
        Shell(directory, $"ls *.txt | xargs -P {cores} -I{{}} /bin/sh -c 'cat {{}} | uniq > {{}}.uniq'");
        Shell(directory, $"ls *.uniq | xargs -P {cores} -I{{}} /bin/sh -c 'cat {{}} | wc -l > {{}}.count'");
        return watch.Elapsed;
    }

    private static void Shell(string directory, string script)
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/bash") { ArgumentList = { "-c", script }, WorkingDirectory = directory })!;
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{script}' exited {process.ExitCode}");
        }
    }

    internal static string Content(int i) => $"line\nline\nfile {i}\nend\n";

    private static Task<LocalServer> StartAsync(string root, string data, LocalTaskHost host = LocalTaskHost.InProcess, string pipelineFile = "linecount.yaml", SandboxMode sandbox = SandboxMode.Auto)
    {
        var path = Path.IsPathFullyQualified(pipelineFile) ? pipelineFile : Path.Combine(root, "examples", pipelineFile);
        var pipeline = PipelineLoader.LoadFile(path).Pipelines[0].Pipeline;
        return LocalServer.StartAsync(new LocalServerOptions
        {
            DataDirectory = data,
            Runtime = new RuntimeOptions { SlotsPerTask = Slots },
            TaskHost = host,
            Sandbox = sandbox,
            FunctionsApp = host == LocalTaskHost.Functions ? FunctionsApp(root) : null,
        }, [pipeline]);
    }

    /// <summary>The Release build of the task function app (bench/functions builds it first).</summary>
    private static string FunctionsApp(string root) => Path.Combine(root, "functions", "Koalja.Functions", "bin", "Release", "net10.0");

    internal static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var v) ? v : fallback;
    }
}
