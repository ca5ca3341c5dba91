using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Koalja.Core.Contract;
using Koalja.Core.Loading;
using Koalja.Tasks;

namespace Koalja.Benchmarks;

/// <summary>
/// What the task contract costs per execution on the local path: the <c>io.koalja.snapshot</c> event encoded, decoded by
/// the task host, the answer encoded and read back (<see cref="InProcessTaskFunction"/> with a runner that does nothing),
/// on the example linecount pipeline. The reference is the runner called directly, as before the contract was on the path.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class ContractBenchmarks
{
    private TaskInvocation _invocation = null!;
    private ContractMessage _snapshot = null!;
    private ContractMessage _answer = null!;
    private Outcome _runner = null!;
    private InProcessTaskFunction _function = null!;

    [GlobalSetup]
    public void Setup()
    {
        var file = Path.Combine(Koalja.Testing.Repository.Root, "examples", "linecount.yaml");
        var pipeline = PipelineLoader.LoadFile(file).Pipelines[0].Pipeline;
        var at = DateTimeOffset.UtcNow;
        _invocation = new TaskInvocation(pipeline.Name, pipeline.Spec, "countLines", "code-version", "snapshot-id", 1,
            [new InvocationInput("inputFile", [new InvocationValue("value-id", new string('a', 64), 120, "text/plain",
                new ValueOrigin("removeDuplicates", "outputFile", 0, at, "revision", "code", "snapshot-0"))])]) { Revision = "revision" };
        var outcome = new TaskOutcome(true, [new ProducedValue("outputFile", 0, new string('b', 64), 4, "text/plain")], at, at, 0, LogSha256: new string('c', 64));
        _runner = new Outcome(outcome);
        _function = new InProcessTaskFunction(new TaskHost(_runner, TimeProvider.System));
        _snapshot = SnapshotEvents.Encode(_invocation);
        _answer = ExecutionAnswers.Answer(_invocation, outcome);
    }

    [Benchmark(Baseline = true, Description = "runner called directly (no contract)")]
    public Task<TaskOutcome> Direct() => _runner.RunAsync(_invocation, CancellationToken.None);

    [Benchmark(Description = "whole round trip through the contract")]
    public Task<TaskOutcome> RoundTrip() => _function.RunAsync(_invocation, CancellationToken.None);

    [Benchmark(Description = "encode the snapshot event")]
    public ContractMessage EncodeSnapshot() => SnapshotEvents.Encode(_invocation);

    [Benchmark(Description = "decode the snapshot event")]
    public TaskInvocation DecodeSnapshot() => SnapshotEvents.Decode(_snapshot);

    [Benchmark(Description = "encode the answer")]
    public ContractMessage EncodeAnswer() => ExecutionAnswers.Answer(_invocation, _runner.Result);

    [Benchmark(Description = "read the answer")]
    public TaskOutcome ReadAnswer() => ExecutionAnswers.Read(_answer);

    private sealed class Outcome(TaskOutcome outcome) : ITaskRunner
    {
        public TaskOutcome Result => outcome;

        public Task<TaskOutcome> RunAsync(TaskInvocation invocation, CancellationToken cancellationToken) => Task.FromResult(outcome);
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(BenchmarkDotNet.Jobs.Job.ShortRun);
        }
    }
}
