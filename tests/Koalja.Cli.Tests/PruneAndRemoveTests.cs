using Koalja.Core.Loading;
using Koalja.Router.Hosting;
using Microsoft.Data.Sqlite;

namespace Koalja.Cli.Tests;

/// <summary>
/// <c>koalja prune</c> keeps what its rule keeps, everything those values were computed from, and what pending work
/// needs; deletes the rest with its runs and stored content; says it all first with <c>--dry-run</c>. <c>koalja
/// remove</c> deletes a pipeline. Both refuse while a server runs on the directory.
/// </summary>
public sealed class PruneAndRemoveTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("koalja-cli-prune-").FullName;

    private string Data => Path.Combine(_dir, ".koalja");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task PruneKeepsTheLineageOfWhatItKeepsAndPendingWorkAndRemoveDeletesAPipeline()
    {
        var pipeline = PipelineLoader.LoadFile(Path.Combine(CliRunner.RepositoryRoot, "examples", "linecount.yaml")).Pipelines[0].Pipeline;
        var files = new[] { "a\n", "b\nb2\n", "c\nc2\nc3\n" }.Select((text, i) => Write($"f{i}.txt", text)).ToArray();
        string[] finals;
        await using (var server = await LocalServer.StartAsync(new LocalServerOptions { DataDirectory = Data }, [pipeline]))
        {
            foreach (var file in files)
            {
                Assert.Equal(0, (await CliRunner.RunAsync("drop", "linecount/fileDropInput", file, "--wait", "--data", Data)).ExitCode);
            }

            finals = Ids("linecount/countLines");
            var (busy, _, refused) = await CliRunner.RunAsync("prune", "--keep-last", "1", "--data", Data);
            Assert.Equal(1, busy);
            Assert.Contains("stop it first", refused, StringComparison.Ordinal);
        }

        Assert.Equal(3, finals.Length); // newest first: finals[0] came from f2
        var (noRule, _, say) = await CliRunner.RunAsync("prune", "--data", Data);
        Assert.Equal((1, true), (noRule, say.Contains("Say what to keep", StringComparison.Ordinal)));
        Assert.Contains("is not a duration", (await CliRunner.RunAsync("prune", "--keep-newer-than", "7 days", "--data", Data)).Error, StringComparison.Ordinal);

        var (dry, wouldBe, _) = await CliRunner.RunAsync("prune", "--keep-last", "1", "--dry-run", "--data", Data);
        Assert.Equal(0, dry);
        Assert.StartsWith("would delete 6 value(s) (", wouldBe, StringComparison.Ordinal);
        Assert.Contains("4 snapshot(s) with 4 execution(s)", wouldBe, StringComparison.Ordinal);
        Assert.EndsWith("; 3 value(s) kept\n", wouldBe, StringComparison.Ordinal);
        Assert.Equal(3, Ids("linecount/countLines").Length); // a dry run deletes nothing

        var oldest = Sha256Of("f0.txt");
        Assert.True(File.Exists(Blob(oldest)));
        var (pruned, output, error) = await CliRunner.RunAsync("prune", "--keep-last", "1", "--data", Data);
        Assert.True(pruned == 0, error);
        Assert.Equal(wouldBe.Replace("would delete", "deleted", StringComparison.Ordinal), output);
        Assert.Equal([finals[0]], Ids("linecount/countLines"));
        Assert.Single(Ids("linecount/fileDropInput"));
        Assert.False(File.Exists(Blob(oldest)));
        Assert.True(File.Exists(Blob(Sha256Of("f2.txt"))));
        var lineage = (await CliRunner.RunAsync("lineage", finals[0], "--data", Data)).Output;
        Assert.Contains("f2.txt", lineage, StringComparison.Ordinal); // the kept value's lineage is whole
        Assert.Contains("404", (await CliRunner.RunAsync("cat", finals[2], "--data", Data)).Error, StringComparison.Ordinal);

        // Old ancestors of a recent value stay: its lineage needs them.
        Age("task <> 'countLines'");
        var (recent, recentOutput, recentError) = await CliRunner.RunAsync("prune", "--keep-newer-than", "1d", "--data", Data);
        Assert.True(recent == 0, recentError);
        Assert.StartsWith("deleted 0 value(s)", recentOutput, StringComparison.Ordinal);
        Assert.EndsWith("; 3 value(s) kept\n", recentOutput, StringComparison.Ordinal);

        // A value that waits for a paused pipeline is pending work: no age makes it go.
        string waiting;
        await using (var server = await LocalServer.StartAsync(new LocalServerOptions { DataDirectory = Data }, [pipeline]))
        {
            Assert.Equal(0, (await CliRunner.RunAsync("pause", "linecount", "--data", Data)).ExitCode);
            waiting = (await CliRunner.RunAsync("drop", "linecount/fileDropInput", Write("late.txt", "late\n"), "--data", Data)).Output.Split(' ')[0];
        }

        Age();
        var (aged, agedOutput, agedError) = await CliRunner.RunAsync("prune", "--keep-newer-than", "1d", "--data", Data);
        Assert.True(aged == 0, agedError);
        Assert.StartsWith("deleted 3 value(s)", agedOutput, StringComparison.Ordinal);
        Assert.Equal([waiting], Ids("linecount/fileDropInput"));
        Assert.Empty(Ids("linecount/countLines"));
        await using (var server = await LocalServer.StartAsync(new LocalServerOptions { DataDirectory = Data }, [pipeline]))
        {
            Assert.Equal(0, (await CliRunner.RunAsync("resume", "linecount", "--data", Data)).ExitCode);
            var deadline = DateTime.UtcNow.AddMinutes(1);
            while (Ids("linecount/countLines").Length == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the value kept for pending work never ran");
                await Task.Delay(100);
            }

            Assert.Equal("1\n", (await CliRunner.RunAsync("cat", Ids("linecount/countLines")[0], "--data", Data)).Output.TrimStart());
        }

        Assert.Contains("No pipeline 'nope'", (await CliRunner.RunAsync("remove", "nope", "--data", Data)).Error, StringComparison.Ordinal);
        Assert.StartsWith("would delete 3 value(s)", (await CliRunner.RunAsync("remove", "linecount", "--dry-run", "--data", Data)).Output, StringComparison.Ordinal);
        Assert.Matches(@"^linecount ", (await CliRunner.RunAsync("pipelines", "--data", Data)).Output.Split('\n')[1]);
        var (removed, removedOutput, removedError) = await CliRunner.RunAsync("remove", "linecount", "--data", Data);
        Assert.True(removed == 0, removedError);
        Assert.StartsWith("deleted 3 value(s)", removedOutput, StringComparison.Ordinal);
        Assert.Equal("(none)", (await CliRunner.RunAsync("pipelines", "--data", Data)).Output.Split('\n')[1]);
        Assert.DoesNotContain(Directory.EnumerateFiles(Path.Combine(Data, "blobs"), "*", SearchOption.AllDirectories), f => !f.Contains("/tmp", StringComparison.Ordinal));
    }

    private string[] Ids(string task)
    {
        var (_, output, _) = CliRunner.RunAsync("values", task, "--limit", "1000", "--data", Data).GetAwaiter().GetResult();
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(' ')[0]).Where(id => id != "(none)").ToArray();
    }

    /// <summary>Makes values (those <paramref name="which"/> selects) a year old, as if the directory had been used long ago.</summary>
    private void Age(string which = "1 = 1")
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(Data, "registry.db")}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE annotated_values SET created_at = '2025-01-01T00:00:00.0000000+00:00' WHERE " + which;
        command.ExecuteNonQuery();
    }

    private string Sha256Of(string name) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(_dir, name))));

    private string Blob(string sha256) => Directory.EnumerateFiles(Path.Combine(Data, "blobs"), "*", SearchOption.AllDirectories)
        .FirstOrDefault(f => Path.GetFileName(f) == sha256) ?? Path.Combine(Data, "blobs", "missing-" + sha256);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}
