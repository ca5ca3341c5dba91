using Microsoft.AspNetCore.Http;

namespace Koalja.Router.Api;

/// <summary><c>application/problem+json</c> answers (RFC 9457).</summary>
internal static class Problems
{
    public static IResult NotFound(string title, string? detail = null) => Status(StatusCodes.Status404NotFound, title, detail);

    public static IResult BadRequest(string title, string? detail = null) => Status(StatusCodes.Status400BadRequest, title, detail);

    public static IResult Status(int status, string title, string? detail) => Results.Problem(detail: detail, statusCode: status, title: title);

    public static IResult NoPipeline(string p, Runtime.PipelineRouter router) =>
        NotFound($"No pipeline '{p}'", $"This server runs: {string.Join(", ", router.Pipelines.Keys)}.");
}
