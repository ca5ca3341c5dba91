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
