using Koalja.Router.Registry;

namespace Koalja.Router.Lineage;

/// <summary>Which way lineage goes from a value: to what it came from, or to what came from it.</summary>
public enum LineageDirection
{
    Up,
    Down,
}

/// <summary>
/// The lineage of one value: values and the executions that connect them. An execution <c>used</c>
/// values (edges named by input and position) and <c>generated</c> values (named by output and index).
/// </summary>
public sealed record LineageGraph(
    string Root,
    LineageDirection Direction,
    int? Depth,
    DateTimeOffset? AsOf,
    IReadOnlyList<LineageValue> Values,
    IReadOnlyList<LineageExecution> Executions,
    IReadOnlyList<LineageEdge> Edges,
    bool Truncated);

/// <summary>A value of the graph, <paramref name="Depth"/> hops from the root.</summary>
public sealed record LineageValue(ValueRecord Value, int Depth);

/// <summary>An execution of the graph, with its task and the code version it ran.</summary>
public sealed record LineageExecution(ExecutionRecord Execution, string Pipeline, string Task, string CodeVersion);

/// <summary><c>used</c>: value → execution; <c>generated</c>: execution → value.</summary>
public sealed record LineageEdge(string Kind, string From, string To, string Name, int Position);

/// <summary>One execution with the values it used (by input and position) and produced: an OpenLineage run.</summary>
public sealed record LineageRun(ExecutionRecord Execution, string Pipeline, string Task, string CodeVersion,
    IReadOnlyList<(string Input, int Position, ValueRecord Value)> Inputs, IReadOnlyList<ValueRecord> Outputs)
{
    /// <summary>The runs of a lineage graph: its executions with the edges between them and its values.</summary>
    public static List<LineageRun> From(LineageGraph graph)
    {
        var values = graph.Values.ToDictionary(v => v.Value.Id, v => v.Value, StringComparer.Ordinal);
        var used = graph.Edges.Where(x => x.Kind == "used").ToLookup(x => x.To, StringComparer.Ordinal);
        var generated = graph.Edges.Where(x => x.Kind == "generated").ToLookup(x => x.From, StringComparer.Ordinal);
        return graph.Executions.Select(e => new LineageRun(e.Execution, e.Pipeline, e.Task, e.CodeVersion,
            used[e.Execution.Id].OrderBy(x => x.Name, StringComparer.Ordinal).ThenBy(x => x.Position).Select(x => (x.Name, x.Position, values[x.From])).ToList(),
            generated[e.Execution.Id].Select(x => values[x.To]).OrderBy(v => v.Output, StringComparer.Ordinal).ThenBy(v => v.OutputIndex).ToList()))
            .OrderBy(r => r.Execution.FinishedAt).ThenBy(r => r.Execution.Id, StringComparer.Ordinal).ToList();
    }
}
