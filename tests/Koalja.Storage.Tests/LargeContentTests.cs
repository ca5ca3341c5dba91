using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Koalja.Storage.Tests;

/// <summary>
/// A 2 GB value round-trips through S3 and Azure Blob while the process stays under 200 MB: the round trip runs in a
/// process of its own (the benchmark tool's <c>storage</c> command), whose peak resident memory it reports.
/// </summary>
public sealed partial class LargeContentTests
{
    private const long TwoGigabytes = 2L << 30;
    private const double MemoryLimitMiB = 200;

    [Fact]
    public async Task TwoGigabytesRoundTripThroughS3InUnder200MB()
    {
        _ = TestBuckets.S3Options("");
        var output = await RoundTripAsync($"s3://{TestBuckets.Bucket}/large-{Guid.NewGuid():N}?endpoint={Testing.TestServers.S3("ENDPOINT")}",
            ("S3_ACCESS_KEY", Testing.TestServers.S3("ACCESS_KEY")), ("S3_SECRET_KEY", Testing.TestServers.S3("SECRET_KEY")));
        AssertWithinMemory(output);
    }

    [Fact]
    public async Task TwoGigabytesRoundTripThroughAzureBlobInUnder200MB()
    {
        _ = TestBuckets.Container();
        var output = await RoundTripAsync($"azblob://{TestBuckets.ContainerName}/large-{Guid.NewGuid():N}", ("AZURE_STORAGE_CONNECTION_STRING", Testing.TestServers.Azure));
        AssertWithinMemory(output);
    }

    private static void AssertWithinMemory(string output)
    {
        Assert.Contains($"round trip of {TwoGigabytes:N0} bytes", output, StringComparison.Ordinal);
        Assert.Contains("content verified", output, StringComparison.Ordinal);
        var peak = double.Parse(PeakRss().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(peak < MemoryLimitMiB, $"peak resident memory {peak} MiB, over {MemoryLimitMiB} MiB:\n{output}");
    }

    private static async Task<string> RoundTripAsync(string storage, params (string Name, string Value)[] environment)
    {
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var tool = Path.Combine(Testing.Repository.Root, "bench", "Koalja.Benchmarks", "bin", configuration, "net10.0", "Koalja.Benchmarks.dll");
        Assert.True(File.Exists(tool), $"build the benchmarks first ({tool} is missing)");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { tool, "storage", "--storage", storage, "--size", TwoGigabytes.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, output);
        return output;
    }

    [GeneratedRegex(@"peak RSS (\d+) MiB")]
    private static partial Regex PeakRss();
}
