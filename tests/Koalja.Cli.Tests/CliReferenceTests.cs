namespace Koalja.Cli.Tests;

/// <summary>docs/cli.md is what the parser says: every command, argument and option, with its description and default.</summary>
public sealed class CliReferenceTests
{
    private static string File => Path.Combine(Testing.Repository.Root, "docs", "cli.md");

    [Fact]
    public void TheReferenceIsWrittenFromTheParser()
    {
        var written = CliReference.Markdown(CliApp.CreateRootCommand(TextWriter.Null, TextWriter.Null));
        if (Environment.GetEnvironmentVariable("KOALJA_UPDATE_GOLDEN") == "1")
        {
            System.IO.File.WriteAllText(File, written);
        }

        Assert.True(System.IO.File.Exists(File), "docs/cli.md is missing: KOALJA_UPDATE_GOLDEN=1 dotnet test tests/Koalja.Cli.Tests writes it");
        Assert.Equal(written, System.IO.File.ReadAllText(File));
    }

    [Fact]
    public void EveryCommandAndOptionSaysWhatItDoes()
    {
        var root = CliApp.CreateRootCommand(TextWriter.Null, TextWriter.Null);
        foreach (var command in root.Subcommands)
        {
            Assert.False(string.IsNullOrWhiteSpace(command.Description), $"koalja {command.Name} has no description");
            foreach (var option in command.Options.Where(o => !o.Hidden))
            {
                Assert.False(string.IsNullOrWhiteSpace(option.Description), $"koalja {command.Name} {option.Name} has no description");
            }

            foreach (var argument in command.Arguments)
            {
                Assert.False(string.IsNullOrWhiteSpace(argument.Description), $"koalja {command.Name} <{argument.Name}> has no description");
            }
        }
    }
}

/// <summary>koalja completion: the script completes commands and options by asking the real tool.</summary>
public sealed class CompletionTests
{
    [Theory]
    [InlineData("koalja sta", "status")]
    [InlineData("koalja status --da", "--data")]
    [InlineData("koalja lo", "logs")]
    public async Task TheBashScriptCompletesWhatTheParserKnows(string line, string expected)
    {
        var (code, script, _) = await CliRunner.RunAsync("completion", "bash");
        Assert.Equal(0, code);
        var tool = Path.Combine(AppContext.BaseDirectory, "koalja");
        var words = line.Split(' ');
        var bash = $$"""
            {{script}}
            COMP_LINE='{{line}}'; COMP_POINT={{line.Length}}; COMP_WORDS=({{string.Join(' ', words.Select(w => $"'{w}'"))}}); COMP_WORDS[0]='{{tool}}'; COMP_CWORD={{words.Length - 1}}
            _koalja_complete
            printf '%s\n' "${COMPREPLY[@]}"
            """;
        var start = new System.Diagnostics.ProcessStartInfo("/bin/bash") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        await process.StandardInput.WriteAsync(bash);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Contains(expected, output.Split('\n'));
    }
}
