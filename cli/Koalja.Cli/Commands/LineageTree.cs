using System.Globalization;
using Koalja.Router.Api;

namespace Koalja.Cli.Commands;

/// <summary>
/// Draws a lineage graph as a tree in the terminal: each value, the execution that made it (task, code
/// version, attempt, exit code, time), and under it the values it used, by input name and position.
/// Going down, each value is followed by the executions that used it and what they made. A value
/// reached twice is drawn once and referred to after.
/// </summary>
internal static class LineageTree
{
    public static void Write(TextWriter output, LineageDto graph)
    {
        var values = graph.Values.Select(v => v.Value).ToDictionary(v => v.Id, StringComparer.Ordinal);
        var executions = graph.Executions.ToDictionary(e => e.Execution.Id, StringComparer.Ordinal);
        var edges = graph.Edges;
        var generatedBy = edges.Where(e => e.Kind == "generated").ToLookup(e => e.To, StringComparer.Ordinal);
        var generatedFrom = edges.Where(e => e.Kind == "generated").ToLookup(e => e.From, StringComparer.Ordinal);
        var usedBy = edges.Where(e => e.Kind == "used").ToLookup(e => e.To, StringComparer.Ordinal);
        var usedFrom = edges.Where(e => e.Kind == "used").ToLookup(e => e.From, StringComparer.Ordinal);
        var up = graph.Direction == "up";
        var root = graph.Root;
        var shown = new HashSet<string>(StringComparer.Ordinal);

        output.WriteLine(Describe(values[root]));
        Children(root, "");
        if (graph.Truncated)
        {
            output.WriteLine("(cut: the graph has more values than one answer holds; use --depth)");
        }

        void Children(string valueId, string indent)
        {
            if (!shown.Add(valueId))
            {
                return;
            }

            // up: the execution that generated this value; down: the executions that used it
            var steps = up
                ? generatedBy[valueId].Select(e => (Execution: e.From, Label: "")).ToList()
                : usedFrom[valueId].Select(e => (Execution: e.To, Label: $"as {e.Name}[{e.Position}]: ")).ToList();
            for (var s = 0; s < steps.Count; s++)
            {
                var lastStep = s == steps.Count - 1;
                output.WriteLine($"{indent}{(lastStep ? "└─ " : "├─ ")}{steps[s].Label}{Execution(executions[steps[s].Execution])}");
                var inner = indent + (lastStep ? "   " : "│  ");
                var next = up
                    ? usedBy[steps[s].Execution].OrderBy(e => e.Name, StringComparer.Ordinal).ThenBy(e => e.Position)
                        .Select(e => (Value: e.From, Label: $"{e.Name}[{e.Position}]: ")).ToList()
                    : generatedFrom[steps[s].Execution].OrderBy(e => e.Name, StringComparer.Ordinal).ThenBy(e => e.Position)
                        .Select(e => (Value: e.To, Label: "")).ToList();
                for (var v = 0; v < next.Count; v++)
                {
                    var lastValue = v == next.Count - 1;
                    var seen = shown.Contains(next[v].Value);
                    output.WriteLine($"{inner}{(lastValue ? "└─ " : "├─ ")}{next[v].Label}{Describe(values[next[v].Value])}{(seen ? " (shown above)" : "")}");
                    Children(next[v].Value, inner + (lastValue ? "   " : "│  "));
                }
            }
        }
    }

    private static string Describe(ValueDto value)
    {
        var source = value.SourceName is { } name ? $" \"{name}\"" : "";
        var shadow = value.Shadow is true ? " (shadow)" : "";
        return $"{value.Id}  {value.Task}.{value.Output}[{value.OutputIndex}]{source}  {Size(value.Size)}  {Time(value.Created)}{shadow}";
    }

    private static string Execution(LineageExecutionDto e)
    {
        var execution = e.Execution;
        var took = execution.Finished - execution.Started;
        var exit = execution.ExitCode is { } code ? $", exit {code}" : "";
        return $"{e.Task}  code {e.CodeVersion[..12]}  attempt {execution.Attempt}{exit}, "
            + $"{took.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms at {Time(execution.Started)}";
    }

    internal static string Size(long bytes) => bytes < 1024 ? $"{bytes} B" : bytes < 1 << 20 ? $"{bytes / 1024.0:0.#} KiB" : $"{bytes / 1048576.0:0.#} MiB";

    private static string Time(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
