using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Koalja.Cli;

/// <summary>
/// docs/cli.md, written from the parser itself: every command with what it does, its arguments and its options with
/// their defaults, so the reference cannot drift from the tool (a test compares the file with this).
/// </summary>
internal static class CliReference
{
    public static string Markdown(RootCommand root)
    {
        var text = new StringBuilder();
        text.AppendLine("# The koalja command line");
        text.AppendLine();
        text.AppendLine("<!-- Written from the parser (cli/Koalja.Cli/CliReference.cs); a test keeps it equal: KOALJA_UPDATE_GOLDEN=1 dotnet test tests/Koalja.Cli.Tests rewrites it. -->");
        text.AppendLine();
        text.AppendLine(root.Description);
        text.AppendLine();
        text.AppendLine("Every command takes `-h`/`--help`. An unknown option or command is named in one line, with the command whose `--help` to read.");
        text.AppendLine();
        text.AppendLine("| command | what it does |");
        text.AppendLine("|---|---|");
        foreach (var command in root.Subcommands.Where(c => !c.Hidden))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| [`{command.Name}`](#koalja-{command.Name}) | {Cell(command.Description)} |");
        }

        foreach (var command in root.Subcommands.Where(c => !c.Hidden))
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"## koalja {command.Name}");
            text.AppendLine();
            text.AppendLine(command.Description);
            text.AppendLine();
            var usage = string.Join(' ', new[] { "koalja", command.Name }
                .Concat(command.Arguments.Select(a => a.Arity.MinimumNumberOfValues == 0 ? $"[{a.Name}]" : a.Arity.MaximumNumberOfValues > 1 ? $"<{a.Name}>..." : $"<{a.Name}>"))
                .Concat(command.Options.Any(o => !o.Hidden) ? ["[options]"] : []));
            text.AppendLine(CultureInfo.InvariantCulture, $"    {usage}");
            foreach (var argument in command.Arguments)
            {
                text.AppendLine();
                text.AppendLine(CultureInfo.InvariantCulture, $"- `{argument.Name}`: {argument.Description}");
            }

            var options = command.Options.Where(o => !o.Hidden).ToList();
            if (options.Count == 0)
            {
                continue;
            }

            text.AppendLine();
            text.AppendLine("| option | what it does | default |");
            text.AppendLine("|---|---|---|");
            foreach (var option in options)
            {
                var names = string.Join(", ", new[] { option.Name }.Concat(option.Aliases.Order(StringComparer.Ordinal)).Select(n => $"`{n}`"));
                text.AppendLine(CultureInfo.InvariantCulture, $"| {names} | {Cell(option.Description)} | {Cell(Default(option))} |");
            }
        }

        return text.ToString();
    }

    private static string Default(Option option)
    {
        // A default the description states in words is one read from the environment or the machine: the words say it.
        if (!option.HasDefaultValue || option.Description?.Contains("default:", StringComparison.Ordinal) == true)
        {
            return "";
        }

        return option.GetDefaultValue() switch
        {
            null => "",
            bool b => b ? "true" : "",
            string s => $"`{s}`",
            IFormattable f => $"`{f.ToString(null, CultureInfo.InvariantCulture)}`",
            System.Collections.IEnumerable e => string.Join(", ", e.Cast<object>().Select(v => $"`{v}`")),
            var v => $"`{v}`",
        };
    }

    private static string Cell(string? text) => (text ?? "").Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
