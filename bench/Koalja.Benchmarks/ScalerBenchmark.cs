using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Grpc.Net.Client;
using Koalja.Core.Loading;
using Koalja.Router.Hosting;
using Koalja.Router.Runtime;
using Koalja.Scaler.Protocol;

namespace Koalja.Benchmarks;

/// <summary>
/// How fast KEDA hears that a task has work: sequential drops into a trivial task (one slot), each timed from the
/// moment its snapshot became ready in the router to the moment a gRPC client (generated from KEDA's proto, over
/// h2c, as KEDA connects) read <c>StreamIsActive: true</c>. Beside it, in the same run: the drop's own HTTP round trip
/// through the API, and what a polling scaler would add (KEDA polls every 30 s by default: 15 s on average).
/// </summary>
internal static class ScalerBenchmark
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
        var drops = RuntimeBenchmark.Arg(args, "--drops", 300);
        var scratch = Directory.CreateTempSubdirectory("koalja-bench-scaler-").FullName;
        try
        {
            var file = Path.Combine(scratch, "trivial.yaml");
            await File.WriteAllTextAsync(file, Trivial);
            await using var server = await LocalServer.StartAsync(new LocalServerOptions
            {
                DataDirectory = Path.Combine(scratch, "data"),
                Runtime = new RuntimeOptions { SlotsPerTask = 1 },
                ScalerPort = 0,
            }, [PipelineLoader.LoadFile(file).Pipelines[0].Pipeline]);
            Console.WriteLine($"Koalja scaler benchmark: {Environment.ProcessorCount} cores, {drops} sequential drops, scaler at {server.ScalerUrl}");

            long readyAt = 0;
            var armed = 0;
            using var watch = server.Router.WatchLoad("trivial", "touch", () =>
            {
                if (Volatile.Read(ref armed) == 1 && server.Router.Scaling("trivial", "touch")!.Load.Work > 0)
                {
                    Interlocked.CompareExchange(ref readyAt, Stopwatch.GetTimestamp(), 0);
                }
            });

            using var channel = GrpcChannel.ForAddress(server.ScalerUrl!);
            var scaler = new ExternalScaler.ExternalScalerClient(channel);
            var reference = new ScaledObjectRef { Name = "bench", Namespace = "default" };
            reference.ScalerMetadata["pipeline"] = "trivial";
            reference.ScalerMetadata["task"] = "touch";
            using var cancel = new CancellationTokenSource();
            using var stream = scaler.StreamIsActive(reference, cancellationToken: cancel.Token);
            var heard = Channel.CreateUnbounded<(bool Active, long At)>();
            var reader = Task.Run(async () =>
            {
                try
                {
                    while (await stream.ResponseStream.MoveNext(cancel.Token))
                    {
                        heard.Writer.TryWrite((stream.ResponseStream.Current.Result, Stopwatch.GetTimestamp()));
                    }
                }
                catch (Exception) when (cancel.IsCancellationRequested)
                {
                }
            });

            using var http = new HttpClient { BaseAddress = server.Url };
            var (roundTrips, pushes, dropToPush) = (new List<double>(), new List<double>(), new List<double>());
            Assert((await heard.Reader.ReadAsync()).Active == false, "the stream starts inactive");
            for (var i = 0; i < drops + 10; i++)
            {
                Interlocked.Exchange(ref readyAt, 0);
                Volatile.Write(ref armed, 1);
                var sent = Stopwatch.GetTimestamp();
                using (var response = await http.PostAsync("pipelines/trivial/fileDropInput", new StringContent($"value {i}\n", Encoding.UTF8)))
                {
                    response.EnsureSuccessStatusCode();
                }

                var acknowledged = Stopwatch.GetTimestamp();
                var (active, at) = await heard.Reader.ReadAsync();
                Assert(active, "a drop makes the task active");
                Assert(Interlocked.Read(ref readyAt) != 0, "the router told of the ready snapshot");
                Volatile.Write(ref armed, 0);
                Assert((await heard.Reader.ReadAsync()).Active == false, "the task goes idle after its execution");
                if (i >= 10) // the first ten warm the JIT and the connections
                {
                    roundTrips.Add(Stopwatch.GetElapsedTime(sent, acknowledged).TotalMilliseconds);
                    pushes.Add(Stopwatch.GetElapsedTime(Interlocked.Read(ref readyAt), at).TotalMilliseconds);
                    dropToPush.Add(Stopwatch.GetElapsedTime(sent, at).TotalMilliseconds);
                }
            }

            await cancel.CancelAsync();
            await reader;
            Console.WriteLine();
            Console.WriteLine($"| over {drops} drops | p50 | p99 |");
            Console.WriteLine("|---|---:|---:|");
            Console.WriteLine($"| snapshot ready → StreamIsActive true read by the client | {P(pushes, 0.5):F2} ms | {P(pushes, 0.99):F2} ms |");
            Console.WriteLine($"| drop sent → StreamIsActive true | {P(dropToPush, 0.5):F2} ms | {P(dropToPush, 0.99):F2} ms |");
            Console.WriteLine($"| reference: the drop's HTTP round trip | {P(roundTrips, 0.5):F2} ms | {P(roundTrips, 0.99):F2} ms |");
            Console.WriteLine("| reference: a scaler KEDA polls (pollingInterval 30 s) | 15,000 ms on average | 30,000 ms |");
            return 0;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static double P(List<double> samples, double quantile)
    {
        samples.Sort();
        return samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(samples.Count * quantile) - 1)];
    }

    private static void Assert(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"The scaler did not behave: {what}.");
        }
    }
}
