using Koalja.Router.Hosting;

namespace Koalja.Benchmarks;

/// <summary>
/// What running tasks as Functions workers costs (<c>koalja up --task-host functions</c>) next to running them in
/// process, both measured in the same run on the same machine: (a) drop → output latency of a trivial task (one
/// <c>/bin/sh</c> that writes an empty file) over sequential drops, whose difference is the per-snapshot overhead of the
/// functions path (snapshot event over HTTP, the protocol host, gRPC to the worker, the answer back); (b) many files
/// through the linecount example on both paths.
/// </summary>
internal static class FunctionsBenchmark
{
    private const string Trivial = """
        apiVersion: koalja.aljabr.io/v1alpha1
        kind: Pipeline
        metadata: {name: trivial}
        spec:
          tasks:
          - {name: fileDropInput, type: FileDrop, outputs: [{name: file, typeRef: text}]}
          - name: touch
            inputs: [{name: in, typeRef: text}]
            outputs: [{name: out, typeRef: text}]
            executor: {image: alpine, command: ["/bin/sh", "-c", ": > {{.outputs.out.path}}"]}
          links: [{name: a, sourceRef: fileDropInput/file, destinationRef: touch/in}]
          types: [{name: text, protocol: File, format: Text}]
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        RuntimeBenchmark.Slots = RuntimeBenchmark.Arg(args, "--slots", Environment.ProcessorCount);
        var drops = RuntimeBenchmark.Arg(args, "--latency-drops", 500);
        var files = RuntimeBenchmark.Arg(args, "--batch-files", 1000);
        var root = Koalja.Testing.Repository.Root;
        var scratch = Directory.CreateTempSubdirectory("koalja-bench-fn-").FullName;
        try
        {
            var trivial = Path.Combine(scratch, "trivial.yaml");
            await File.WriteAllTextAsync(trivial, Trivial);
            Console.WriteLine($"Koalja task hosts benchmark: {Environment.ProcessorCount} cores, data in {scratch}");
            var results = new Dictionary<LocalTaskHost, ((double P50, double P99) Latency, TimeSpan Batch, long Values)>();
            foreach (var host in new[] { LocalTaskHost.InProcess, LocalTaskHost.Functions })
            {
                Console.WriteLine($"{host}: {drops} sequential drops into a trivial task...");
                var latency = await RuntimeBenchmark.LatencyAsync(root, Path.Combine(scratch, $"latency-{host}"), drops, host, trivial, "trivial", "touch");
                Console.WriteLine($"{host}: {files} files through linecount...");
                var (batch, values) = await RuntimeBenchmark.BatchAsync(root, Path.Combine(scratch, $"batch-{host}"), files, host);
                results[host] = (latency, batch, values);
            }

            var (local, functions) = (results[LocalTaskHost.InProcess], results[LocalTaskHost.Functions]);
            Console.WriteLine();
            Console.WriteLine("| measurement | in process | functions | functions − in process |");
            Console.WriteLine("|---|---:|---:|---:|");
            Console.WriteLine($"| (a) drop → output of a trivial task, p50 over {drops} | {local.Latency.P50:F2} ms | {functions.Latency.P50:F2} ms | {functions.Latency.P50 - local.Latency.P50:F2} ms |");
            Console.WriteLine($"| (a) p99 | {local.Latency.P99:F2} ms | {functions.Latency.P99:F2} ms | {functions.Latency.P99 - local.Latency.P99:F2} ms |");
            Console.WriteLine($"| (b) {files} files through linecount | {local.Batch.TotalSeconds:F2} s | {functions.Batch.TotalSeconds:F2} s | {functions.Batch.TotalSeconds / local.Batch.TotalSeconds:F2}× |");
            Console.WriteLine($"| (b) values recorded | {local.Values} | {functions.Values} | |");
            return 0;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}
