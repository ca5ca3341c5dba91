using Koalja.Core.Spec;
using Koalja.Storage;
using Koalja.Router.Events;
using Koalja.Router.Runtime;
using Koalja.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Koalja.Router.Api;

/// <summary>
/// <c>POST /pipelines/{p}/{task}</c>: data dropped into a FileDrop task, as the raw body or as
/// multipart form files. The bytes are streamed into storage (never held in memory), and the answer
/// comes only once bytes and value are durable. An <c>Idempotency-Key</c> header makes a retry safe.
/// A request that is a CloudEvent (<c>ce-*</c> headers, or a CloudEvents media type) goes to <see cref="EventEndpoints"/>.
/// </summary>
internal static class DropEndpoint
{
    private const int MaxKeyLength = 200;

    public static async Task<IResult> HandleAsync(HttpContext http, string p, string task, PipelineRouter router, IArtifactStore store, RuntimeOptions options, EventIngress ingress)
    {
        if (!router.Pipelines.TryGetValue(p, out var runtime))
        {
            return Problems.NoPipeline(p, router);
        }

        var spec = runtime.Spec.TaskByName(task);
        if (spec is null)
        {
            return Problems.NotFound($"No task '{task}' in pipeline '{p}'", Core.Diagnostics.Suggestions.DidYouMean(task, runtime.Spec.Tasks.Select(t => t.Name)));
        }

        if (spec.Type != BuiltInTaskTypes.FileDrop || spec.Outputs.Count == 0)
        {
            var drops = runtime.Spec.Tasks.Where(t => t.Type == BuiltInTaskTypes.FileDrop).Select(t => t.Name).ToList();
            return Problems.Status(StatusCodes.Status405MethodNotAllowed, $"Task '{task}' does not accept data",
                $"Only FileDrop tasks accept data; in '{p}' they are: {(drops.Count == 0 ? "none" : string.Join(", ", drops))}.");
        }

        if (http.Request.EventMode() is { } eventMode)
        {
            return await EventEndpoints.HandleAsync(http, runtime, task, eventMode, ingress, options);
        }

        if (http.Request.ContentLength > options.MaxDropBytes)
        {
            return TooLarge(options);
        }

        var key = http.Request.Headers["Idempotency-Key"].ToString();
        if (key.Length > MaxKeyLength || key.Any(char.IsControl))
        {
            return Problems.BadRequest("Invalid Idempotency-Key", $"An idempotency key is at most {MaxKeyLength} printable characters.");
        }

        var output = spec.Outputs[0];
        var defaultType = MediaTypes.ForFormat(runtime.Spec.TypeByName(output.TypeRef)?.Format);
        try
        {
            if (MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var contentType) && contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            {
                var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
                if (string.IsNullOrEmpty(boundary))
                {
                    return Problems.BadRequest("Malformed multipart request", "The Content-Type has no boundary.");
                }

                // Every part is stored first and recorded only once the body's closing boundary has come: a part cut off, or
                // garbage after a whole part, records nothing (a retry then neither duplicates nor misses a part).
                var parts = new List<(StoredArtifact Artifact, string MediaType, string? Name)>();
                var reader = new MultipartReader(boundary, http.Request.Body) { BodyLengthLimit = options.MaxDropBytes };
                try
                {
                    while (await reader.ReadNextSectionAsync(http.RequestAborted) is { } section)
                    {
                        if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.IsFileDisposition())
                        {
                            continue;
                        }

                        var name = SafeName(HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value);
                        var artifact = await store.PutAsync(section.Body, options.MaxDropBytes, http.RequestAborted);
                        var mediaType = string.IsNullOrEmpty(section.ContentType) || section.ContentType == "application/octet-stream" ? defaultType : section.ContentType;
                        parts.Add((artifact, mediaType, name));
                    }
                }
                catch (InvalidDataException e) when (e.Message.Contains("before the first boundary", StringComparison.Ordinal))
                {
                    return Problems.BadRequest("Malformed multipart request",
                        $"The body does not start with the boundary '--{ApiSecurity.Printable(boundary)}' the Content-Type names (over {reader.HeadersLengthLimit / 1024:N0} KiB came before it).");
                }
                catch (InvalidDataException e) when (e.Message.StartsWith("Multipart headers", StringComparison.Ordinal) || e.Message.StartsWith("Line length limit", StringComparison.Ordinal))
                {
                    return Problems.Status(StatusCodes.Status431RequestHeaderFieldsTooLarge, "Part headers too large",
                        $"The headers of a multipart part are limited to {reader.HeadersLengthLimit / 1024:N0} KiB and {reader.HeadersCountLimit} lines; the file's data goes in the part's body.");
                }
                catch (IOException e) when (e is not BadHttpRequestException && e.Message.StartsWith("Unexpected end of Stream", StringComparison.Ordinal))
                {
                    return Problems.BadRequest("Malformed multipart request",
                        $"The body ends before the closing boundary '--{ApiSecurity.Printable(boundary)}--': a part is cut off, or the body is not multipart/form-data. Nothing was recorded.");
                }

                if (parts.Count == 0)
                {
                    return Problems.BadRequest("No file in the request", "A multipart drop needs at least one part with a filename.");
                }

                var created = new List<ValueDto>();
                var anyNew = false;
                for (var index = 0; index < parts.Count; index++)
                {
                    // A part's key: the request's key and the part's index, joined by a control character, which no key
                    // sent may hold (so a raw drop cannot name a multipart drop's part).
                    var (artifact, mediaType, name) = parts[index];
                    var (value, partIsNew) = await router.IngestAsync(p, task, output.Name, artifact, mediaType, name, key.Length > 0 ? $"{key}\u001f{index}" : null);
                    anyNew |= partIsNew;
                    created.Add(ValueDto.From(value));
                }

                return Results.Json(created, ApiJsonContext.Default.ListValueDto, statusCode: anyNew ? StatusCodes.Status201Created : StatusCodes.Status200OK);
            }

            var stored = await store.PutAsync(http.Request.Body, options.MaxDropBytes, http.RequestAborted);
            var type = http.Request.ContentType is { Length: > 0 } t && !t.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
                && t != "application/octet-stream" ? t : defaultType;
            var fileName = SafeName(Uri.UnescapeDataString(http.Request.Headers["X-Koalja-Filename"].ToString()));
            var (record, isNew) = await router.IngestAsync(p, task, output.Name, stored, type, fileName, key.Length > 0 ? key : null);
            var dto = ValueDto.From(record);
            return isNew
                ? Results.Json(dto, ApiJsonContext.Default.ValueDto, statusCode: StatusCodes.Status201Created)
                : Results.Json(dto, ApiJsonContext.Default.ValueDto);
        }
        catch (ArtifactTooLargeException)
        {
            return TooLarge(options);
        }
        catch (InvalidDataException e)
        {
            return e.Message.StartsWith("Multipart body length limit", StringComparison.Ordinal) ? TooLarge(options) : Problems.BadRequest("Malformed multipart request", e.Message);
        }
    }

    /// <summary>A dropped file's name is kept only as information: no path parts, no control characters, bounded length.</summary>
    internal static string? SafeName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }

        var last = name.Replace('\\', '/').Split('/').LastOrDefault(s => s.Length > 0 && s != "." && s != "..") ?? "";
        var clean = new string(last.Where(c => !char.IsControl(c)).ToArray()).Trim();
        return clean.Length == 0 ? null : clean.Length > 255 ? clean[..255] : clean;
    }

    private static IResult TooLarge(RuntimeOptions options) =>
        Problems.Status(StatusCodes.Status413PayloadTooLarge, "Upload too large", $"A drop is limited to {options.MaxDropBytes:N0} bytes (koalja up --max-drop).");
}
