using Koalja.Router.Registry;
using Koalja.Router.Runtime;
using Koalja.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Koalja.Router.Api;

/// <summary>Executions as a resource: one with its inputs and outputs, its log, and a task's executions newest first.</summary>
internal static class ExecutionEndpoints
{
    private const int MaxPage = 1000;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/executions/{id}", Get);
        app.MapGet("/api/executions/{id}/log", LogAsync);
        app.MapGet("/api/pipelines/{p}/tasks/{t}/executions", List);
    }

    private static IResult Get(string id, PipelineRouter router)
    {
        using var connection = router.Registry.Open();
        var reader = new RegistryReader(connection);
        if (reader.ExecutionInfo(id) is not { } info)
        {
            return Problems.NotFound($"No execution '{id}'");
        }

        var inputs = reader.SourceInputs(info.Execution.SnapshotId).GroupBy(s => s.Input, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<SourceValueDto>)g.Select(s => new SourceValueDto(s.ValueId, s.ArrivedOn)).ToList(), StringComparer.Ordinal);
        var outputs = reader.ExecutionOutputs(id).Select(ValueDto.From).ToList();
        return Results.Json(new ExecutionDetailDto(ExecutionSummaryDto.From(info), info.Execution.StderrTail, inputs, outputs), ApiJsonContext.Default.ExecutionDetailDto);
    }

    /// <summary>What the execution's command wrote (stdout and stderr, as the task runtime kept them), as text.</summary>
    private static async Task<IResult> LogAsync(string id, PipelineRouter router, IArtifactStore store, HttpResponse response, CancellationToken cancellationToken)
    {
        ExecutionRecord? execution;
        using (var connection = router.Registry.Open())
        {
            execution = new RegistryReader(connection).Execution(id);
        }

        if (execution is null)
        {
            return Problems.NotFound($"No execution '{id}'");
        }

        if (execution.LogSha256 is not { } log)
        {
            return Problems.NotFound($"Execution '{id}' kept no log", "Its task ran nothing that writes one (a built-in task, or it failed before its command started): see its error.");
        }

        try
        {
            response.Headers.XContentTypeOptions = "nosniff";
            response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
            var stream = await store.OpenReadAsync(log, cancellationToken);
            return Results.Stream(stream, "text/plain; charset=utf-8", entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{log}\""), enableRangeProcessing: true);
        }
        catch (ArtifactNotFoundException)
        {
            return Problems.Status(StatusCodes.Status410Gone, $"The log of execution '{id}' is gone", $"Nothing is stored under sha256:{log}.");
        }
    }

    private static IResult List(string p, string t, int? limit, string? before, PipelineRouter router)
    {
        if (!router.Pipelines.TryGetValue(p, out var runtime))
        {
            return Problems.NoPipeline(p, router);
        }

        if (runtime.Spec.TaskByName(t) is null)
        {
            return Problems.NotFound($"No task '{t}' in pipeline '{p}'", Core.Diagnostics.Suggestions.DidYouMean(t, runtime.Spec.Tasks.Select(x => x.Name)));
        }

        if (limit is < 1 or > MaxPage)
        {
            return Problems.BadRequest("Invalid limit", $"limit is 1 to {MaxPage}.");
        }

        using var connection = router.Registry.Open();
        var reader = new RegistryReader(connection);
        if (before is not null && reader.Execution(before) is null)
        {
            return Problems.BadRequest("Invalid before", $"'{before}' is no execution; pass the 'next' of the page before.");
        }

        var take = limit ?? 20;
        var executions = reader.Executions(p, t, before, take + 1);
        var page = executions.Take(take).Select(ExecutionSummaryDto.From).ToList();
        return Results.Json(new ExecutionPageDto(page, executions.Count > take ? page[^1].Id : null), ApiJsonContext.Default.ExecutionPageDto);
    }
}
