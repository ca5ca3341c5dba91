using BenchmarkDotNet.Running;
using Koalja.Benchmarks;

// `runtime` runs the end-to-end benchmark of koalja up, `functions` compares its two task hosts, `scaler` times StreamIsActive, `lineage` the lineage queries, `storage` a large round trip, `operator` the operator against a real API server, `cluster` Koalja on a real node beside koalja up;
// anything else goes to BenchmarkDotNet.
return args switch
{
    ["runtime", ..] => await RuntimeBenchmark.RunAsync(args[1..]),
    ["functions", ..] => await FunctionsBenchmark.RunAsync(args[1..]),
    ["scaler", ..] => await ScalerBenchmark.RunAsync(args[1..]),
    ["lineage", ..] => LineageBenchmark.Run(args[1..]),
    ["storage", ..] => await StorageBenchmark.RunAsync(args[1..]),
    ["operator", ..] => await OperatorBenchmark.RunAsync(args[1..]),
    ["cluster", ..] => await ClusterBenchmark.RunAsync(args[1..]),
    _ => Run(args),
};

static int Run(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    return 0;
}
