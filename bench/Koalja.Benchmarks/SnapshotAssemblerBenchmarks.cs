using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Koalja.Core.Policies;
using Koalja.Core.Spec;

namespace Koalja.Benchmarks;

/// <summary>
/// The policy engine on one core. One operation is one value arriving, including the success of the
/// snapshots it makes ready (the whole life of a value in the assembler). Value ids are made before
/// the measurement.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class SnapshotAssemblerBenchmarks
{
    private const int Arrivals = 100_000;

    private readonly TaskSpec _allNew = new()
    {
        Name = "countLines",
        Inputs = [new TaskInputSpec { Name = "inputFile", TypeRef = "t" }],
    };

    private readonly TaskSpec _slidingFourInputs = new()
    {
        Name = "correlate",
        SnapshotPolicy = nameof(SnapshotPolicy.SlidingWindow),
        Inputs = Enumerable.Range(0, 4).Select(i => new TaskInputSpec { Name = $"in{i}", TypeRef = "t", RequiredSequenceLength = 4, Slide = 1 }).ToArray(),
    };

    private ValueArrived[] _single = [];
    private ValueArrived[] _roundRobin = [];

    [GlobalSetup]
    public void Setup()
    {
        _single = Enumerable.Range(0, Arrivals).Select(i => new ValueArrived("inputFile", $"value-{i:D8}")).ToArray();
        _roundRobin = Enumerable.Range(0, Arrivals).Select(i => new ValueArrived($"in{i % 4}", $"value-{i:D8}")).ToArray();
    }

    [Benchmark(OperationsPerInvoke = Arrivals, Description = "AllNew, 1 input")]
    public int SingleInputAllNew() => Run(_allNew, _single);

    [Benchmark(OperationsPerInvoke = Arrivals, Description = "SlidingWindow, 4 inputs (window 4, slide 1)")]
    public int FourInputSlidingWindow() => Run(_slidingFourInputs, _roundRobin);

    private static int Run(TaskSpec task, ValueArrived[] arrivals)
    {
        using var assembler = new SnapshotAssembler(task, "code-v1");
        var snapshots = 0;
        foreach (var arrival in arrivals)
        {
            var ready = assembler.Apply(arrival).Ready;
            for (var i = 0; i < ready.Count; i++)
            {
                snapshots++;
                assembler.Apply(new SnapshotSucceeded(ready[i].Id));
            }
        }

        return snapshots;
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new RateColumn("Arrivals/s"));
    }
}
