using System.Diagnostics;

namespace Koalja.Cli.Tests;

/// <summary>Runs the CLI in-process with captured output, or the repository's ./koalja script as a real process.</summary>
internal static class CliRunner
{
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await CliApp.RunAsync(args, stdout, stderr);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    public static string RepositoryRoot => Testing.Repository.Root;

    public static async Task<(int ExitCode, string Output, string Error)> RunScriptAsync(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(RepositoryRoot, "koalja"))
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}
