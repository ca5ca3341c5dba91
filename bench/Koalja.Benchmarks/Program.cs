using BenchmarkDotNet.Running;
using Koalja.Benchmarks;

// `runtime` runs the end-to-end benchmark of koalja up; anything else goes to BenchmarkDotNet.
return args is ["runtime", ..]
    ? await RuntimeBenchmark.RunAsync(args[1..])
    : Run(args);

static int Run(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    return 0;
}
