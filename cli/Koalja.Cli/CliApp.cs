using System.CommandLine;
using Koalja.Cli.Commands;

namespace Koalja.Cli;

/// <summary>The <c>koalja</c> command line: one root command with a sub-command per capability.</summary>
public static class CliApp
{
    /// <summary>How the user runs koalja, for the commands it suggests: <c>./koalja</c> from the repository's script (which sets KOALJA_SELF), else <c>koalja</c>.</summary>
    public static string Self => Environment.GetEnvironmentVariable("KOALJA_SELF") is { Length: > 0 } self && self.IndexOfAny(['\n', '\r', ' ']) < 0 ? self : "koalja";

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
            CompletionCommand.Create(stdout),
        };
        foreach (var command in ClientCommands.Create(stdout, stderr).Concat(ProvenanceCommands.Create(stdout, stderr)).Concat(DeadLetterCommands.Create(stdout, stderr)).Concat(PipelineCommands.Create(stdout, stderr)).Concat(MaintenanceCommands.Create(stdout, stderr)))
        {
            root.Subcommands.Add(command);
        }

        RefuseOptionsAsArguments(root);
        return root;
    }

    /// <summary>An argument never takes a word that looks like an option: <c>status --bogus</c> is an unknown option, not a pipeline named "--bogus".</summary>
    private static void RefuseOptionsAsArguments(Command command)
    {
        foreach (var argument in command.Arguments)
        {
            argument.Validators.Add(result =>
            {
                foreach (var token in result.Tokens.Where(t => t.Value.Length > 1 && t.Value[0] == '-'))
                {
                    result.AddError($"Unknown option '{token.Value}'");
                }
            });
        }

        foreach (var sub in command.Subcommands)
        {
            RefuseOptionsAsArguments(sub);
        }
    }

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        var root = CreateRootCommand(stdout, stderr);
        var configuration = new InvocationConfiguration { Output = stdout, Error = stderr };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && !args.Any(a => a is "-h" or "--help" or "-?"))
        {
            // The errors, and where to read more: not the whole help text, which buries them.
            foreach (var error in parse.Errors.Select(e => e.Message).Distinct(StringComparer.Ordinal))
            {
                stderr.WriteLine($"koalja: {error}");
            }

            var path = string.Join(' ', new[] { Self }.Concat(CommandPath(parse.CommandResult.Command, root)));
            stderr.WriteLine($"See '{path} --help'.");
            return 1;
        }

        return await parse.InvokeAsync(configuration, cancellationToken);
    }

    private static IEnumerable<string> CommandPath(Command command, RootCommand root) =>
        ReferenceEquals(command, root) ? [] : [.. command.Parents.OfType<Command>().SelectMany(p => CommandPath(p, root)), command.Name];
}
