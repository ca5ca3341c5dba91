using System.CommandLine;
using System.Text.Json;
using Koalja.Core.Diagnostics;
using Koalja.Core.Loading;

namespace Koalja.Cli.Commands;

/// <summary><c>koalja validate FILE...</c>: checks pipeline files and prints every problem, like a compiler.</summary>
internal static class ValidateCommand
{
    public static Command Create(TextWriter stdout)
    {
        var files = new Argument<string[]>("files") { Description = "Pipeline files (YAML or JSON)", Arity = ArgumentArity.OneOrMore };
        var format = new Option<string>("--format") { Description = "Output format: text or json", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var command = new Command("validate", "Check pipeline files and report every error at once") { files, format };
        command.SetAction(parse => Run(parse.GetValue(files)!, parse.GetValue(format)!, stdout));
        return command;
    }

    internal static int Run(IReadOnlyList<string> files, string format, TextWriter stdout)
    {
        var results = files.Select(PipelineLoader.LoadFile).ToList();
        if (format == "json")
        {
            stdout.WriteLine(JsonSerializer.Serialize(results.Select(ValidationReport.From).ToList(), CliJsonContext.Default.ListValidationReport));
        }
        else
        {
            foreach (var result in results)
            {
                WriteText(result, stdout);
            }

            if (results.Count > 1)
            {
                var failed = results.Count(r => !r.Succeeded);
                stdout.WriteLine($"{results.Count} files: {results.Count - failed} ok, {failed} with errors");
            }
        }

        return results.All(r => r.Succeeded) ? 0 : 1;
    }

    /// <summary>Each diagnostic as a compiler line, with the source line it points at (errors and warnings) and its hint.</summary>
    internal static void WriteDiagnostics(PipelineLoadResult result, IEnumerable<Diagnostic> diagnostics, TextWriter output)
    {
        var lines = new SourceLines(result.File);
        foreach (var diagnostic in diagnostics)
        {
            output.WriteLine(diagnostic.Format());
            if (diagnostic.Severity != Severity.Note && lines.Get(diagnostic.Position.Line) is { } line)
            {
                var gutter = diagnostic.Position.Line.ToString(System.Globalization.CultureInfo.InvariantCulture);
                output.WriteLine($"  {gutter} | {line}");
                output.WriteLine($"  {new string(' ', gutter.Length)} | {new string(' ', Math.Max(0, diagnostic.Position.Column - 1))}^");
            }

            if (diagnostic.Hint is { } hint)
            {
                output.WriteLine($"  hint: {hint}");
            }
        }
    }

    private static void WriteText(PipelineLoadResult result, TextWriter stdout)
    {
        WriteDiagnostics(result, result.Diagnostics, stdout);

        var errors = result.Errors.Count();
        stdout.WriteLine(errors == 0 ? $"{result.File}: ok" : $"{result.File}: {errors} error{(errors == 1 ? "" : "s")}");
    }
}
