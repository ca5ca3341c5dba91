using System.CommandLine;
using Koalja.Cli.Commands;

namespace Koalja.Cli;

/// <summary>The <c>koalja</c> command line: one root command with a sub-command per capability.</summary>
public static class CliApp
{
    public static RootCommand CreateRootCommand(TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("Koalja: data pipelines with provenance.")
        {
            ValidateCommand.Create(stdout),
            UpCommand.Create(stdout, stderr),
            ListenCommand.Create(stdout, stderr),
            RenderCommand.Create(stdout, stderr),
            ApplyCommand.Create(stdout, stderr),
            OperatorCommand.Create(stdout, stderr),
            FunctionsHostCommand.Create(stdout, stderr),
            LogsCommand.Create(stdout, stderr),
        };
        foreach (var command in ClientCommands.Create(stdout, stderr).Concat(ProvenanceCommands.Create(stdout, stderr)).Concat(DeadLetterCommands.Create(stdout, stderr)))
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        var root = CreateRootCommand(stdout, stderr);
        var configuration = new InvocationConfiguration { Output = stdout, Error = stderr };
        return await root.Parse(args).InvokeAsync(configuration, cancellationToken);
    }
}
