using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Koalja.Cli.Tests;

/// <summary>
/// The README's five-minute tour, run as written from a clean directory: <c>koalja up</c> in the background, then each
/// <c>$ command</c> of the tour through bash, its output compared with what the README shows. Ids, times, durations and
/// slot counts may differ; an id the README shows stands, in later commands, for the id the run printed in its place.
/// </summary>
public sealed partial class ReadmeTourTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("koalja-tour-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task TheTourPrintsWhatTheReadmeShows()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(CliRunner.RepositoryRoot, "README.md"));
        var start = readme.IndexOf("## Running a pipeline: a five-minute tour", StringComparison.Ordinal);
        var tour = readme[start..readme.IndexOf("\n## ", start + 3, StringComparison.Ordinal)];
        var blocks = CodeBlock().Matches(tour).Select(m => m.Groups[1].Value).Where(b => b.StartsWith("$ ", StringComparison.Ordinal)).ToList();
        Assert.True(blocks.Count >= 2, "the tour has an up block and a block of commands");

        // ./koalja as the README runs it, and the examples beside it
        var port = FreePort();
        await File.WriteAllTextAsync(Path.Combine(_dir, "koalja"), $"#!/bin/sh\nKOALJA_SELF=./koalja exec '{Path.Combine(CliRunner.RepositoryRoot, "koalja")}' \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(_dir, "koalja"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        Directory.CreateSymbolicLink(Path.Combine(_dir, "examples"), Path.Combine(CliRunner.RepositoryRoot, "examples"));
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        string Localize(string text) => ids.Aggregate(text.Replace("8080", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal),
            (t, id) => t.Replace(id.Key, id.Value, StringComparison.Ordinal));

        var (upCommand, upExpected) = Commands(blocks[0]).Single();
        using var up = Bash(Localize(upCommand));
        var upOutput = new StringBuilder();
        up.OutputDataReceived += (_, e) => { lock (upOutput) { upOutput.AppendLine(e.Data); } };
        up.ErrorDataReceived += (_, e) => { lock (upOutput) { upOutput.AppendLine(e.Data); } };
        up.BeginOutputReadLine();
        up.BeginErrorReadLine();
        try
        {
            var deadline = DateTime.UtcNow.AddMinutes(3);
            string Up()
            {
                lock (upOutput)
                {
                    return upOutput.ToString();
                }
            }

            while (!Up().Contains("Press Ctrl+C to stop.", StringComparison.Ordinal))
            {
                Assert.True(DateTime.UtcNow < deadline && !up.HasExited, Up());
                await Task.Delay(100);
            }

            Match(upCommand, Localize(upExpected), Up(), ids);
            foreach (var (command, expected) in blocks.Skip(1).SelectMany(Commands))
            {
                if (command.Contains("--follow", StringComparison.Ordinal))
                {
                    continue; // it runs until interrupted
                }

                using var run = Bash("{ " + Localize(command) + "\n} 2>&1"); // a newline ends the command's comment
                var output = await run.StandardOutput.ReadToEndAsync();
                await run.WaitForExitAsync();
                Assert.True(run.ExitCode == 0, $"{command}\n{output}");
                Match(command, Localize(expected), output, ids);
            }
        }
        finally
        {
            up.Kill(entireProcessTree: true);
            await up.WaitForExitAsync();
        }
    }

    /// <summary>Each <c>$ command</c> of a block with the lines the README shows after it.</summary>
    private static IEnumerable<(string Command, string Expected)> Commands(string block)
    {
        var parts = block.Split("\n$ ");
        return parts.Select(p => p.StartsWith("$ ", StringComparison.Ordinal) ? p[2..] : p)
            .Select(p => (p.Split('\n')[0], string.Join('\n', p.Split('\n').Skip(1)).Trim('\n')));
    }

    /// <summary>
    /// The output has the README's lines in order (it may have more after them, as <c>up</c> does, not fewer); each README
    /// id is recorded as the id printed in its place.
    /// </summary>
    private static void Match(string command, string expected, string actual, Dictionary<string, string> ids)
    {
        var want = expected.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var got = actual.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'))
            .Where(l => !l.StartsWith("koalja: building the command-line tool", StringComparison.Ordinal)) // ./koalja's first run
            .Where(l => !CurlMeter().IsMatch(l)).ToArray(); // curl's progress meter, which it shows on a terminal only when the output is not there
        Assert.True(got.Length >= want.Length, $"$ {command}\nexpected:\n{expected}\nprinted:\n{actual}");
        for (var i = 0; i < want.Length; i++)
        {
            var pattern = "^" + Regex.Escape(Normal(want[i])).Replace(@"\.\.\.", ".*", StringComparison.Ordinal) + "$";
            Assert.True(Regex.IsMatch(Normal(got[i]), pattern), $"$ {command}\nline {i + 1}: expected\n  {want[i]}\nprinted\n  {got[i]}\nall it printed:\n{actual}");
            foreach (var (readme, printed) in Hex().Matches(want[i]).Zip(Hex().Matches(got[i])))
            {
                ids.TryAdd(readme.Value, printed.Value);
            }
        }
    }

    /// <summary>What may differ between runs, made the same: ids, times, durations, slot counts and numbers, runs of spaces.</summary>
    private static string Normal(string line)
    {
        line = ShortHex().Replace(line, "<id>");
        line = Hex().Replace(line, "<id>");
        line = Time().Replace(line, "<time>");
        line = Duration().Replace(line, "<duration>");
        line = Slots().Replace(line, "<n>/<n>");
        line = Slot().Replace(line, "$1-<n>"); // which of a task's worker slots ran an execution
        return Spaces().Replace(line, " ").Trim();
    }

    private Process Bash(string command)
    {
        var start = new ProcessStartInfo("/bin/bash") { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        start.Environment.Remove("KOALJA_URL");
        start.Environment.Remove("KOALJA_KEY");
        return Process.Start(start)!;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"```\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    [GeneratedRegex(@"\b[0-9a-f]{8,}\b")]
    private static partial Regex Hex();

    [GeneratedRegex(@"\b[0-9a-f]{3,}…")]
    private static partial Regex ShortHex();

    [GeneratedRegex(@"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")]
    private static partial Regex Time();

    [GeneratedRegex(@"\b\d+(\.\d+)? ?(ms|s)\b")]
    private static partial Regex Duration();

    [GeneratedRegex(@"\b(local-\S+)-\d+\b")]
    private static partial Regex Slot();

    [GeneratedRegex(@"\b\d+/\d+\b")]
    private static partial Regex Slots();

    [GeneratedRegex(@"% Total|Dload|--:--:--")]
    private static partial Regex CurlMeter();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
