using System.Globalization;
using System.Text.Json;

namespace Koalja.Cli.Commands;

/// <summary>
/// Draws a lineage graph as a tree in the terminal: each value, the execution that made it (task, code
/// version, attempt, exit code, time), and under it the values it used, by input name and position.
/// Going down, each value is followed by the executions that used it and what they made. A value
/// reached twice is drawn once and referred to after.
/// </summary>
internal static class LineageTree
{
    public static void Write(TextWriter output, JsonElement graph)
    {
        var values = graph.GetProperty("values").EnumerateArray().Select(v => v.GetProperty("value")).ToDictionary(v => v.GetProperty("id").GetString()!, StringComparer.Ordinal);
        var executions = graph.GetProperty("executions").EnumerateArray().ToDictionary(e => e.GetProperty("execution").GetProperty("id").GetString()!, StringComparer.Ordinal);
        var edges = graph.GetProperty("edges").EnumerateArray().Select(e => (Kind: e.GetProperty("kind").GetString()!, From: e.GetProperty("from").GetString()!,
            To: e.GetProperty("to").GetString()!, Name: e.GetProperty("name").GetString()!, Position: e.GetProperty("position").GetInt32())).ToList();
        var generatedBy = edges.Where(e => e.Kind == "generated").ToLookup(e => e.To, StringComparer.Ordinal);
        var generatedFrom = edges.Where(e => e.Kind == "generated").ToLookup(e => e.From, StringComparer.Ordinal);
        var usedBy = edges.Where(e => e.Kind == "used").ToLookup(e => e.To, StringComparer.Ordinal);
        var usedFrom = edges.Where(e => e.Kind == "used").ToLookup(e => e.From, StringComparer.Ordinal);
        var up = graph.GetProperty("direction").GetString() == "up";
        var root = graph.GetProperty("root").GetString()!;
        var shown = new HashSet<string>(StringComparer.Ordinal);

        output.WriteLine(Describe(values[root]));
        Children(root, "");
        if (graph.GetProperty("truncated").GetBoolean())
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

    private static string Describe(JsonElement value)
    {
        var source = value.TryGetProperty("sourceName", out var name) ? $" \"{name.GetString()}\"" : "";
        var shadow = value.TryGetProperty("shadow", out _) ? " (shadow)" : "";
        return $"{value.GetProperty("id").GetString()}  {value.GetProperty("task").GetString()}.{value.GetProperty("output").GetString()}[{value.GetProperty("outputIndex").GetInt32()}]"
            + $"{source}  {Size(value.GetProperty("size").GetInt64())}  {Time(value.GetProperty("created"))}{shadow}";
    }

    private static string Execution(JsonElement e)
    {
        var execution = e.GetProperty("execution");
        var took = execution.GetProperty("finished").GetDateTimeOffset() - execution.GetProperty("started").GetDateTimeOffset();
        var exit = execution.TryGetProperty("exitCode", out var code) ? $", exit {code.GetInt32()}" : "";
        return $"{e.GetProperty("task").GetString()}  code {e.GetProperty("codeVersion").GetString()![..12]}  attempt {execution.GetProperty("attempt").GetInt32()}{exit}, "
            + $"{took.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms at {Time(execution.GetProperty("started"))}";
    }

    private static string Size(long bytes) => bytes < 1024 ? $"{bytes} B" : bytes < 1 << 20 ? $"{bytes / 1024.0:0.#} KiB" : $"{bytes / 1048576.0:0.#} MiB";

    private static string Time(JsonElement time) => time.GetDateTimeOffset().ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
