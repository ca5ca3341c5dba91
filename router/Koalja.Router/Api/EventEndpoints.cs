using System.Buffers;
using Koalja.Core.Events;
using Koalja.Router.Events;
using Koalja.Router.Runtime;
using Microsoft.AspNetCore.Http;

namespace Koalja.Router.Api;

/// <summary>
/// CloudEvents ingress: <c>POST|PUT /api/pipelines/{p}/events</c>, and <c>POST /pipelines/{p}/{task}</c> when the request is a
/// CloudEvent. One event (binary or structured mode) answers 201 with the value, or 200 with the earlier value when its
/// (source, id) was seen before; a batch answers each event's result (200 when all were taken, else 207).
/// </summary>
internal static class EventEndpoints
{
    public static async Task<IResult> PipelineAsync(HttpContext http, string p, PipelineRouter router, EventIngress ingress, RuntimeOptions options)
    {
        if (!router.Pipelines.TryGetValue(p, out var runtime))
        {
            return Problems.NoPipeline(p, router);
        }

        if (http.Request.EventMode() is not { } mode)
        {
            return Problems.Status(StatusCodes.Status415UnsupportedMediaType, "Not a CloudEvent",
                $"Send a CloudEvent: binary mode (ce-specversion, ce-id, ce-source and ce-type headers, the body is the data), structured mode ({CloudEventAttributes.StructuredMediaType}) or a batch ({CloudEventAttributes.BatchMediaType}).");
        }

        return await HandleAsync(http, runtime, null, mode, ingress, options);
    }

    /// <summary>Takes the request's events for <paramref name="urlTask"/> (or the task each one names).</summary>
    public static async Task<IResult> HandleAsync(HttpContext http, PipelineRuntime runtime, string? urlTask, EventMode mode, EventIngress ingress, RuntimeOptions options)
    {
        var request = http.Request;
        if (mode == EventMode.Binary)
        {
            var incoming = request.ReadBinaryEvent();
            if (incoming.Event is null)
            {
                return Invalid(incoming.Violations);
            }

            var empty = request.ContentLength == 0 || request.ContentLength is null && request.Headers.TransferEncoding.Count == 0;
            return Single(await ingress.IngestAsync(runtime, urlTask, incoming.Event, mode, request.Body, empty, http.RequestAborted));
        }

        if (request.ContentLength > options.MaxEventBytes)
        {
            return TooLarge(mode, options);
        }

        var body = await ReadLimitedAsync(request.Body, options.MaxEventBytes, http.RequestAborted);
        if (body is null)
        {
            return TooLarge(mode, options);
        }

        var (events, problem) = CloudEventBinding.ReadJson(body, mode);
        if (problem is not null)
        {
            return Invalid([problem]);
        }

        if (mode == EventMode.Structured)
        {
            var single = events![0];
            return single.Event is null ? Invalid(single.Violations) : Single(await ingress.IngestAsync(runtime, urlTask, single.Event, mode, null, true, http.RequestAborted));
        }

        if (events!.Count > options.MaxBatchEvents)
        {
            return Problems.Status(StatusCodes.Status413PayloadTooLarge, "Batch too large", $"A batch holds at most {options.MaxBatchEvents:N0} events; this one has {events.Count:N0}.");
        }

        var results = new List<EventResultDto>();
        foreach (var e in events)
        {
            var outcome = e.Event is null
                ? EventOutcome.Refused(StatusCodes.Status400BadRequest, "Invalid CloudEvent", [.. e.Violations])
                : await ingress.IngestAsync(runtime, urlTask, e.Event, mode, null, true, http.RequestAborted);
            results.Add(EventResultDto.From(e.Index, outcome));
        }

        var batch = new EventBatchDto(results.Count(r => r.Status == 201), results.Count(r => r.Status == 200), results.Count(r => r.Status >= 400), results);
        return Results.Json(batch, ApiJsonContext.Default.EventBatchDto, statusCode: batch.Refused == 0 ? StatusCodes.Status200OK : StatusCodes.Status207MultiStatus);
    }

    private static IResult Single(EventOutcome outcome) => outcome.Value is { } value
        ? Results.Json(ValueDto.From(value), ApiJsonContext.Default.ValueDto, statusCode: outcome.Status)
        : Problem(outcome.Status, outcome.Title ?? "Invalid CloudEvent", outcome.Violations);

    private static IResult Invalid(IReadOnlyList<CloudEventViolation> violations) => Problem(StatusCodes.Status400BadRequest, "Invalid CloudEvent", violations);

    private static IResult Problem(int status, string title, IReadOnlyList<CloudEventViolation> violations) =>
        Results.Problem(detail: string.Join("; ", violations.Select(v => v.Message)), statusCode: status, title: title, extensions: new Dictionary<string, object?>
        {
            ["attribute"] = violations.Count > 0 ? violations[0].Attribute : null,
            ["errors"] = violations.Select(v => new EventViolationDto(v.Attribute, v.Message)).ToList(),
        });

    private static IResult TooLarge(EventMode mode, RuntimeOptions options) => Problems.Status(StatusCodes.Status413PayloadTooLarge, "Event too large",
        $"A {(mode == EventMode.Batch ? "batch" : "structured-mode")} request is limited to {options.MaxEventBytes:N0} bytes (koalja up --max-event); send larger data in binary mode (up to --max-drop) or by dataref.");

    /// <summary>The whole body, or null when it is longer than <paramref name="limit"/>.</summary>
    private static async Task<byte[]?> ReadLimitedAsync(Stream body, long limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }
}
