using System.Globalization;
using Koalja.Router.Lineage;
using Koalja.Router.Registry;
using Koalja.Router.Runtime;
using Microsoft.AspNetCore.Http;

namespace Koalja.Router.Api;

/// <summary>Provenance: a value's lineage graph, what it affects, and the PROV-JSON and OpenLineage exports.</summary>
internal static class LineageEndpoints
{
    private const int MaxDepth = 1_000_000;
    private const int MaxRunsPage = 1000;

    public static IResult Lineage(string id, string? direction, int? depth, string? asOf, PipelineRouter router) =>
        WithGraph(id, direction, depth, asOf, router, graph => Results.Json(LineageDto.From(graph), ApiJsonContext.Default.LineageDto));

    public static IResult Prov(string id, string? direction, int? depth, string? asOf, PipelineRouter router) =>
        WithGraph(id, direction, depth, asOf, router, graph => Results.Text(ProvJson.Build(graph).ToJsonString(), "application/json"));

    public static IResult OpenLineage(string id, string? direction, int? depth, string? asOf, PipelineRouter router) =>
        WithGraph(id, direction, depth, asOf, router, graph => Results.Text(OpenLineageEvents.Build(LineageRun.From(graph)).ToJsonString(), "application/json"));

    /// <summary>Everything derived from a value (its descendants), nearest first.</summary>
    public static IResult Affected(string id, int? depth, string? asOf, PipelineRouter router) =>
        WithGraph(id, "down", depth, asOf, router, graph => Results.Json(
            graph.Values.Where(v => v.Depth > 0).Select(v => new LineageValueDto(v.Depth, ValueDto.From(v.Value))).ToList(),
            ApiJsonContext.Default.ListLineageValueDto));

    /// <summary>A page of a pipeline's executions as OpenLineage run events.</summary>
    public static IResult PipelineOpenLineage(string p, string? after, int? limit, PipelineRouter router)
    {
        if (!router.Pipelines.ContainsKey(p))
        {
            return Problems.NoPipeline(p, router);
        }

        if (limit is < 1 or > MaxRunsPage)
        {
            return Problems.BadRequest("Invalid limit", $"limit is 1 to {MaxRunsPage} executions (each gives a START and an end event).");
        }

        using var connection = router.Registry.Open();
        var runs = new LineageQuery(connection).Runs(p, after, limit ?? 100);
        return Results.Text(OpenLineageEvents.Build(runs).ToJsonString(), "application/json");
    }

    private static IResult WithGraph(string id, string? direction, int? depth, string? asOf, PipelineRouter router, Func<LineageGraph, IResult> answer)
    {
        LineageDirection way;
        switch (direction?.ToLowerInvariant())
        {
            case null or "up":
                way = LineageDirection.Up;
                break;
            case "down":
                way = LineageDirection.Down;
                break;
            default:
                return Problems.BadRequest("Invalid direction", "direction is 'up' (where the value came from) or 'down' (what was made from it).");
        }

        if (depth is < 1 or > MaxDepth)
        {
            return Problems.BadRequest("Invalid depth", $"depth is 1 to {MaxDepth:N0} hops; leave it out for the whole graph.");
        }

        DateTimeOffset? time = null;
        if (asOf is not null)
        {
            if (!DateTimeOffset.TryParse(asOf, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return Problems.BadRequest("Invalid asOf", $"'{asOf}' is not a time; use ISO 8601, e.g. 2026-11-25T10:00:00Z.");
            }

            time = parsed;
        }

        using var connection = router.Registry.Open();
        var graph = new LineageQuery(connection).Run(id, way, depth, time);
        if (graph is not null)
        {
            return answer(graph);
        }

        return time is not null && new RegistryReader(connection).Value(id) is not null
            ? Problems.NotFound($"Value '{id}' did not exist yet at {time:O}")
            : Problems.NotFound($"No value '{id}'");
    }
}
