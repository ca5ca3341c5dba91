using Koalja.Router.Registry;
using Koalja.Router.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Koalja.Router.Api;

/// <summary>
/// A pipeline's dead letters: listed, retried (run once more with the task's current code) or discarded, all of them,
/// one task's (<c>task=</c>) or the snapshots named (<c>snapshot=</c>, repeated); and the record of what was done.
/// </summary>
internal static class DeadLetterEndpoints
{
    private const int MaxActions = 1000;

    public static void Map(IEndpointRouteBuilder app, RequiredLevel admin)
    {
        app.MapGet("/api/pipelines/{p}/dead-letters", List);
        app.MapGet("/api/pipelines/{p}/dead-letters/actions", Actions);
        app.MapPost("/api/pipelines/{p}/dead-letters/retry", (string p, [FromQuery] string? task, [FromQuery] string[]? snapshot, PipelineRouter router) => ResolveAsync(p, task, snapshot, retry: true, router))
            .WithMetadata(admin);
        app.MapPost("/api/pipelines/{p}/dead-letters/discard", (string p, [FromQuery] string? task, [FromQuery] string[]? snapshot, PipelineRouter router) => ResolveAsync(p, task, snapshot, retry: false, router))
            .WithMetadata(admin);
    }

    private static IResult List(string p, PipelineRouter router)
    {
        if (!router.Pipelines.ContainsKey(p))
        {
            return Problems.NoPipeline(p, router);
        }

        using var connection = router.Registry.Open();
        var list = new RegistryReader(connection).DeadLetters(p).Select(DeadLetterDto.From).ToList();
        return Results.Json(list, ApiJsonContext.Default.ListDeadLetterDto);
    }

    private static IResult Actions(string p, int? limit, PipelineRouter router)
    {
        if (!router.Pipelines.ContainsKey(p))
        {
            return Problems.NoPipeline(p, router);
        }

        if (limit is < 1 or > MaxActions)
        {
            return Problems.BadRequest("Invalid limit", $"limit is 1 to {MaxActions}.");
        }

        using var connection = router.Registry.Open();
        var list = new RegistryReader(connection).DeadLetterActions(p, limit ?? 100)
            .Select(a => new DeadLetterActionDto(DeadLetterDto.From(a.Letter), a.Action, a.CodeVersion, a.ActedAt)).ToList();
        return Results.Json(list, ApiJsonContext.Default.ListDeadLetterActionDto);
    }

    private static async Task<IResult> ResolveAsync(string p, string? task, string[]? snapshots, bool retry, PipelineRouter router)
    {
        if (!router.Pipelines.TryGetValue(p, out var runtime))
        {
            return Problems.NoPipeline(p, router);
        }

        if (task is not null && runtime.Spec.TaskByName(task) is null)
        {
            return Problems.NotFound($"No task '{task}' in pipeline '{p}'", Core.Diagnostics.Suggestions.DidYouMean(task, runtime.Spec.Tasks.Select(t => t.Name)));
        }

        HashSet<string>? named = snapshots is { Length: > 0 } ? new(snapshots, StringComparer.Ordinal) : null;
        if (named is not null)
        {
            using var connection = router.Registry.Open();
            var dead = new RegistryReader(connection).DeadLetters(p).Where(d => task is null || d.Task == task).ToDictionary(d => d.SnapshotId, d => d.Task, StringComparer.Ordinal);
            if (named.Where(s => !dead.ContainsKey(s)).ToList() is { Count: > 0 } unknown)
            {
                return Problems.NotFound($"Not a dead letter of {(task is null ? $"pipeline '{p}'" : $"{p}/{task}")}: {string.Join(", ", unknown)}",
                    "GET the pipeline's dead-letters for the snapshots that are.");
            }

            if (retry && named.Where(s => !runtime.Dispatchers.ContainsKey(dead[s])).ToList() is { Count: > 0 } orphaned)
            {
                return Problems.Status(StatusCodes.Status409Conflict, $"Cannot retry {string.Join(", ", orphaned)}",
                    "Their task is no longer in the pipeline, or runs no snapshots; they can be discarded, not retried.");
            }
        }

        var done = await router.ResolveDeadLettersAsync(runtime, task, named, retry);
        return Results.Json(new DeadLetterResolutionDto(retry ? "retried" : "discarded", done.Select(DeadLetterDto.From).ToList()), ApiJsonContext.Default.DeadLetterResolutionDto);
    }
}
