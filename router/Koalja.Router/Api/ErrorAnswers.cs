using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Koalja.Router.Api;

/// <summary>
/// The one place that makes every error answer <c>application/problem+json</c> (docs/api.md promises it), around the
/// whole API: a <see cref="BadHttpRequestException"/> (Kestrel: a body cut off or over a limit; minimal APIs: a query
/// parameter or body that cannot be bound) answers its status with the reason; an error status set with no body (no
/// such route, a method not taken) gets a problem saying so; any other exception answers 500 and is logged, and the
/// client is told nothing of it (no message, no stack trace). An answer that has started is left alone.
/// </summary>
public static partial class ErrorAnswers
{
    public static WebApplication UseKoaljaErrorAnswers(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ErrorAnswers).FullName!);
        app.Use(async (http, next) =>
        {
            try
            {
                await next(http);
            }
            catch (BadHttpRequestException e) when (!http.Response.HasStarted)
            {
                http.Response.Clear();
                await Problems.Status(e.StatusCode, Title(e.StatusCode), ApiSecurity.Printable(e.Message)).ExecuteAsync(http);
                return;
            }
            catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
            {
                return; // the client is gone: nobody to answer
            }
            catch (Exception e) when (!http.Response.HasStarted && Registry.RegistryFull.Is(e))
            {
                // the store or the registry is full: nothing of the request was recorded, and it may be sent again once there is room
                OutOfSpace(logger, e, http.Request.Method, ApiSecurity.Printable(http.Request.Path.Value ?? ""));
                http.RequestServices.GetService<Runtime.PipelineRouter>()?.Space.OutOfSpace(Runtime.SpaceHealth.Storage);
                http.Response.Clear();
                http.Response.Headers.RetryAfter = "30";
                await Problems.Status(StatusCodes.Status507InsufficientStorage, "Insufficient storage",
                    "The server ran out of disk space and recorded nothing of this request; send it again once there is room (GET /healthz tells).").ExecuteAsync(http);
                return;
            }
            catch (Exception e) when (!http.Response.HasStarted)
            {
                Failed(logger, e, http.Request.Method, ApiSecurity.Printable(http.Request.Path.Value ?? ""));
                http.Response.Clear();
                await Problems.Status(StatusCodes.Status500InternalServerError, "Internal server error",
                    "The server failed on this request and recorded nothing for it; its log says why.").ExecuteAsync(http);
                return;
            }

            var response = http.Response;
            if (!response.HasStarted && response.StatusCode >= 400 && response.ContentLength is null && string.IsNullOrEmpty(response.ContentType))
            {
                await Empty(http).ExecuteAsync(http);
            }
        });
        return app;
    }

    /// <summary>The problem for an error status the framework set without a body.</summary>
    private static IResult Empty(HttpContext http)
    {
        var status = http.Response.StatusCode;
        var what = $"{http.Request.Method} {ApiSecurity.Printable(http.Request.Path.Value ?? "")}";
        return status switch
        {
            StatusCodes.Status404NotFound => Problems.NotFound("Not found", $"Nothing answers {what}; the HTTP API is under /api (docs/api.md describes it)."),
            StatusCodes.Status405MethodNotAllowed => Problems.Status(status, "Method not allowed", $"{what}: this path does not take {http.Request.Method} (docs/api.md lists what it takes)."),
            _ => Problems.Status(status, Title(status), $"{what} could not be handled as sent."),
        };
    }

    private static string Title(int status) => ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : $"Error {status}";

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} ran out of disk space; the client got a 507")]
    private static partial void OutOfSpace(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed; the client got a 500")]
    private static partial void Failed(ILogger logger, Exception exception, string method, string path);
}
