namespace Koalja.Cli.Tests;

/// <summary>The ./koalja script at the repository root builds the tool once, then runs it directly.</summary>
public sealed class KoaljaScriptTests
{
    [Fact]
    public async Task TheScriptValidatesTheExamplesAndDoesNotRebuildWhenNothingChanged()
    {
        var root = CliRunner.RepositoryRoot;
        var examples = Directory.GetFiles(Path.Combine(root, "examples"), "*.yaml").Select(f => Path.GetRelativePath(root, f)).Order().ToArray();

        var first = await CliRunner.RunScriptAsync(root, ["validate", .. examples]);
        var second = await CliRunner.RunScriptAsync(root, ["validate", .. examples]);

        Assert.True(first.ExitCode == 0, first.Output + first.Error);
        foreach (var example in examples)
        {
            Assert.Contains($"{example}: ok", first.Output, StringComparison.Ordinal);
        }

        Assert.Equal(0, second.ExitCode);
        Assert.DoesNotContain("building", second.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheScriptPassesTheExitCodeOfABrokenFileThrough()
    {
        var dir = Directory.CreateTempSubdirectory("koalja-script-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "broken.yaml"), "apiVersion: koalja.aljabr.io/v1alpha1\nkind: Pipeline\n");

            var (exitCode, output, _) = await CliRunner.RunScriptAsync(dir, "validate", "broken.yaml");

            Assert.Equal(1, exitCode);
            Assert.Contains("broken.yaml: ", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
