using System.CommandLine;

namespace Koalja.Cli.Commands;

/// <summary>
/// <c>koalja completion bash|zsh</c>: a shell script that completes koalja's commands and options by asking the tool
/// itself (System.CommandLine's <c>[suggest:POSITION]</c> directive), so completion knows exactly what the parser does.
/// </summary>
internal static class CompletionCommand
{
    private const string Bash = """
        # koalja completion for bash: source <(koalja completion bash), or save it in ~/.local/share/bash-completion/completions/koalja
        _koalja_complete() {
            local IFS=$'\n' suggestions
            suggestions=$("${COMP_WORDS[0]}" "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null)
            COMPREPLY=($(compgen -W "${suggestions}" -- "${COMP_WORDS[COMP_CWORD]}"))
        }
        complete -o default -F _koalja_complete koalja ./koalja
        """;

    public static Command Create(TextWriter stdout)
    {
        var shell = new Argument<string>("shell") { Description = "bash or zsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new Command("completion", "Print a script that completes koalja's commands and options in your shell (source <(koalja completion bash))") { shell };
        command.SetAction(parse =>
        {
            if (parse.GetValue(shell) == "zsh")
            {
                stdout.WriteLine("# koalja completion for zsh: source <(koalja completion zsh) (it uses zsh's bash completion support)");
                stdout.WriteLine("autoload -U +X bashcompinit && bashcompinit");
            }

            stdout.WriteLine(Bash);
            return 0;
        });
        return command;
    }
}
