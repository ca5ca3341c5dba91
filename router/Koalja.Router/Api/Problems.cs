using Microsoft.AspNetCore.Http;

namespace Koalja.Router.Api;

/// <summary><c>application/problem+json</c> answers (RFC 9457).</summary>
internal static class Problems
{
    public static IResult NotFound(string title, string? detail = null) => Status(StatusCodes.Status404NotFound, title, detail);

    public static IResult BadRequest(string title, string? detail = null) => Status(StatusCodes.Status400BadRequest, title, detail);

    public static IResult Status(int status, string title, string? detail) => Results.Problem(detail: Clip(detail), statusCode: status, title: Clip(title));

    /// <summary>The longest quoted name an answer repeats in full; a longer one (a 4,000-character id) is cut, marked with '…'.</summary>
    internal const int LongestQuoted = 80;

    /// <summary>Cuts every quoted part longer than <see cref="LongestQuoted"/>: what a request sent is named, not echoed back whole.</summary>
    internal static string? Clip(string? text) =>
        text is null || text.Length <= LongestQuoted ? text
            : System.Text.RegularExpressions.Regex.Replace(text, "'([^']{" + (LongestQuoted + 1) + ",})'", m => $"'{m.Groups[1].Value[..LongestQuoted]}…'",
                System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1));

    public static IResult NoPipeline(string p, Runtime.PipelineRouter router) =>
        NotFound($"No pipeline '{p}'", $"This server runs: {string.Join(", ", router.Pipelines.Keys)}.");
}
