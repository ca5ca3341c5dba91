using System.Collections.Frozen;
using System.Text.Json;
using Koalja.Storage;
using Koalja.Router.Registry;
using Koalja.Router.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Koalja.Router.Api;

/// <summary>The HTTP API of a Koalja server (see docs/api.md).</summary>
public static class ApiEndpoints
{
    private const int MaxPage = 1000;

    /// <summary>The executions (of the whole pipeline, the latest) a task's durations in its status are taken from.</summary>
    private const int RecentExecutions = 1000;

    public static IEndpointRouteBuilder MapKoaljaApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", Health).WithMetadata(new RequiredLevel(AuthLevel.Anonymous));
        app.MapGet("/", () => Problems.NotFound("Nothing is served at /", "The HTTP API is under /api (GET /api/pipelines lists the pipelines; docs/api.md describes it), Prometheus metrics at /metrics."));
        app.MapGet("/metrics", (RouterMetrics metrics, HttpResponse response, CancellationToken ct) => metrics.WriteAsync(response, ct));
        app.MapPost("/pipelines/{p}/{task}", DropEndpoint.HandleAsync);
        app.MapMethods("/api/pipelines/{p}/events", [HttpMethods.Post, HttpMethods.Put], EventEndpoints.PipelineAsync);
        app.MapGet("/api/pipelines/{p}/events", EventStreamEndpoint.HandleAsync);
        app.MapGet("/api/pipelines", ListPipelines);
        app.MapGet("/api/pipelines/{p}", GetPipeline);
        app.MapGet("/api/pipelines/{p}/stats", GetStats);
        app.MapGet("/api/pipelines/{p}/values", ListValues);
        app.MapGet("/api/values/{id}", GetValue);
        app.MapGet("/api/values/{id}/content", GetContentAsync);
        app.MapGet("/api/values/{id}/lineage", LineageEndpoints.Lineage);
        app.MapGet("/api/values/{id}/affected", LineageEndpoints.Affected);
        app.MapGet("/api/values/{id}/prov", LineageEndpoints.Prov);
        app.MapGet("/api/values/{id}/openlineage", LineageEndpoints.OpenLineage);
        app.MapGet("/api/pipelines/{p}/openlineage", LineageEndpoints.PipelineOpenLineage);
        ExecutionEndpoints.Map(app);
        app.MapGet("/api/ids/{prefix}", ResolveId);
        app.MapPost("/api/pipelines/{p}/derived", DerivedAsync);
        var admin = new RequiredLevel(AuthLevel.Admin);
        DeadLetterEndpoints.Map(app, admin);
        app.MapPost("/api/pipelines/{p}/pause", (string p, PipelineRouter router) => PauseAsync(p, pause: true, router)).WithMetadata(admin);
        app.MapPost("/api/pipelines/{p}/resume", (string p, PipelineRouter router) => PauseAsync(p, pause: false, router)).WithMetadata(admin);
        app.MapPut("/api/pipelines/{p}/tasks/{t}/code", CodeEndpoints.PutAsync).WithMetadata(admin);
        app.MapGet("/api/pipelines/{p}/tasks/{t}/code", CodeEndpoints.List);
        app.MapGet("/api/pipelines/{p}/tasks/{t}/code/{version}", CodeEndpoints.Get);
        app.MapPost("/api/pipelines/{p}/tasks/{t}/code/{version}/activate", CodeEndpoints.ActivateAsync).WithMetadata(admin);
        return app;
    }

    /// <summary>ok, or 503 while the server is short of disk space: drops and executions wait for room meanwhile.</summary>
    private static IResult Health(PipelineRouter router)
    {
        if (router.Space.Shortage is not { } shortage)
        {
            return Results.Json(new Dictionary<string, string> { ["status"] = "ok" }, ApiJsonContext.Default.DictionaryStringString);
        }

        return Results.Json(new Dictionary<string, string>
        {
            ["status"] = "out-of-space",
            ["detail"] = $"{shortage.Where} ran out of disk space; what waits is kept and runs again once there is room (the server's log says more)",
            ["since"] = shortage.Since.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        }, ApiJsonContext.Default.DictionaryStringString, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private static IResult ListPipelines(PipelineRouter router)
    {
        using var connection = router.Registry.Open();
        var reader = new RegistryReader(connection);
        var list = router.Pipelines.Values.Select(runtime =>
        {
            var counts = reader.TaskCounts(runtime.Name);
            var running = runtime.Dispatchers.Values.Sum(d => (long)d.Running);
            return new PipelineSummaryDto(runtime.Name, runtime.Revision, runtime.Spec.Tasks.Count, runtime.Spec.Links.Count,
                counts.Values.Sum(c => c.Values), counts.Values.Sum(c => c.Pending), running, counts.Values.Sum(c => c.DeadLettered), runtime.PausedSince);
        }).ToList();
        return Results.Json(list, ApiJsonContext.Default.ListPipelineSummaryDto);
    }

    private static IResult GetPipeline(string p, PipelineRouter router)
    {
        if (!router.Pipelines.TryGetValue(p, out var runtime))
        {
            return Problems.NoPipeline(p, router);
        }

        using var connection = router.Registry.Open();
        var reader = new RegistryReader(connection);
        var counts = reader.TaskCounts(p);
        var links = reader.LinkCounts(p);
        var durations = reader.ExecutionDurations(p, RecentExecutions);
        var tasks = runtime.Spec.Tasks.Select(t =>
        {
            var c = counts.GetValueOrDefault(t.Name) ?? new TaskCounts();
            var scaling = router.Scaling(p, t.Name);
            var kind = t.Type is { Length: > 0 } type ? type : "command";
            return new TaskStatsDto(t.Name, kind, t.EffectiveSnapshotPolicy.ToString(), scaling?.MaxSlots ?? 0,
                c.Queued, c.Pending, scaling?.Load.InFlight ?? 0, c.Succeeded, c.FailedAttempts, c.DeadLettered, c.Values, scaling?.DesiredSlots ?? 0, scaling?.ActiveSlots ?? 0,
                c.Discarded, durations.TryGetValue(t.Name, out var d) ? Math.Round(d.MedianMs, 1) : null, durations.TryGetValue(t.Name, out var m) ? Math.Round(m.MaxMs, 1) : null);
        }).ToList();
        var linkStats = runtime.Spec.Links.Select(l =>
        {
            var (queued, taken, consumed) = links.GetValueOrDefault(l.Name);
            return new LinkStatsDto(l.Name, l.SourceRef, l.DestinationRef, queued, taken, consumed);
        }).ToList();
        var spec = JsonDocument.Parse(runtime.SpecJson).RootElement.Clone();
        return Results.Json(new PipelineDto(p, runtime.Revision, spec, tasks, linkStats, counts.Values.Sum(c => c.DeadLettered), runtime.PausedSince), ApiJsonContext.Default.PipelineDto);
    }

    private static IResult GetStats(string p, PipelineRouter router)
    {
        if (!router.Pipelines.TryGetValue(p, out var runtime))
        {
            return Problems.NoPipeline(p, router);
        }

        var now = router.Time.GetUtcNow();
        var tasks = runtime.Spec.Tasks.Select(t => router.Scaling(p, t.Name) is { } s
            ? new TaskLoadDto(t.Name, true, s.OrderSensitive, s.Load.Ready, s.Load.InFlight, s.DesiredSlots, s.ActiveSlots, s.MaxSlots, Replicas(s, now))
            : new TaskLoadDto(t.Name, false, false, 0, 0, 0, 0, 0, [])).ToList();
        using var connection = router.Registry.Open();
        var links = new RegistryReader(connection).LinkCounts(p);
        var linkLoads = runtime.Spec.Links.Select(l => new LinkLoadDto(l.Name, l.SourceRef, l.DestinationRef, links.GetValueOrDefault(l.Name).Queued)).ToList();
        return Results.Json(new PipelineStatsDto(p, now, tasks, linkLoads), ApiJsonContext.Default.PipelineStatsDto);
    }

    private static List<ReplicaDto> Replicas(TaskScaling scaling, DateTimeOffset now) =>
        scaling.InFlight.GroupBy(r => r.Replica, StringComparer.Ordinal).Select(g =>
        {
            var since = g.Min(r => r.Since);
            var cost = Core.Scaling.ScaleIn.DeletionCost(new Core.Scaling.ReplicaWork(g.Key, g.Count(), since), now);
            return new ReplicaDto(g.Key, g.Select(r => r.Snapshot).ToList(), since, cost);
        }).OrderBy(r => r.Replica, StringComparer.Ordinal).ToList();

    private static IResult ListValues(string p, string? task, string? output, string? codeVersion, bool? shadow, int? limit, long? after, long? before, string? order, PipelineRouter router)
    {
        var newest = order?.ToLowerInvariant() switch
        {
            null or "oldest" => false,
            "newest" => true,
            _ => (bool?)null,
        };
        if (newest is null)
        {
            return Problems.BadRequest("Invalid order", "order is 'oldest' (the default, continued with after=next) or 'newest' (continued with before=next).");
        }

        if (!router.Pipelines.TryGetValue(p, out var runtime))
        {
            return Problems.NoPipeline(p, router);
        }

        if (task is not null && runtime.Spec.TaskByName(task) is null)
        {
            return Problems.NotFound($"No task '{task}' in pipeline '{p}'", Core.Diagnostics.Suggestions.DidYouMean(task, runtime.Spec.Tasks.Select(t => t.Name)));
        }

        if (limit is < 1 or > MaxPage)
        {
            return Problems.BadRequest("Invalid limit", $"limit is 1 to {MaxPage}.");
        }

        using var connection = router.Registry.Open();
        var take = limit ?? 100;
        var values = new RegistryReader(connection).Values(p, task, output, after ?? 0, take + 1, codeVersion, shadow ?? false, before ?? long.MaxValue, newest.Value);
        var page = values.Take(take).Select(ValueDto.From).ToList();
        return Results.Json(new ValuePageDto(page, values.Count > take ? page[^1].Seq : null), ApiJsonContext.Default.ValuePageDto);
    }

    private const int MaxDerivedValues = 100_000;

    /// <summary>Pauses (drops and events still taken, no new snapshot runs; running ones finish) or resumes a pipeline.</summary>
    private static async Task<IResult> PauseAsync(string p, bool pause, PipelineRouter router)
    {
        if (!router.Pipelines.TryGetValue(p, out var runtime))
        {
            return Problems.NoPipeline(p, router);
        }

        var since = await router.PauseAsync(runtime, pause);
        return Results.Json(new PauseDto(p, since is not null, since), ApiJsonContext.Default.PauseDto);
    }

    /// <summary>Where the work that follows from the values given stands (what <c>koalja drop --wait</c> waits for).</summary>
    private static async Task<IResult> DerivedAsync(string p, HttpRequest request, PipelineRouter router)
    {
        if (!router.Pipelines.ContainsKey(p))
        {
            return Problems.NoPipeline(p, router);
        }

        if (!request.HasJsonContentType())
        {
            return Problems.Status(StatusCodes.Status415UnsupportedMediaType, "Send JSON", "The body is {\"values\": [\"ID\", ...]} with Content-Type: application/json.");
        }

        DerivedRequestDto? body;
        try
        {
            body = await request.ReadFromJsonAsync(ApiJsonContext.Default.DerivedRequestDto, request.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            return Problems.BadRequest("Invalid request", $"Send {{\"values\": [\"ID\", ...]}}: {e.Message}");
        }
        catch (InvalidOperationException e) when (e.InnerException is ArgumentException)
        {
            // the Content-Type's charset is no encoding .NET knows
            return Problems.Status(StatusCodes.Status415UnsupportedMediaType, "Unknown charset", $"{ApiSecurity.Printable(e.Message)} Send the JSON in UTF-8.");
        }

        if (body?.Values is not { Count: > 0 and <= MaxDerivedValues } values || values.Any(v => v is not { Length: > 0 and <= 128 }))
        {
            return Problems.BadRequest("Invalid request", $"Send {{\"values\": [\"ID\", ...]}} with 1 to {MaxDerivedValues:N0} value ids.");
        }

        using var connection = router.Registry.Open();
        var work = new RegistryReader(connection).Derived(p, values.Distinct(StringComparer.Ordinal).ToList());
        return Results.Json(new DerivedWorkDto(work.Pending, work.Succeeded, work.DeadLettered, work.Discarded, work.Values,
            work.Waiting.Select(w => new WaitingValueDto(w.Task, w.Input, w.Value)).ToList(), router.Pipelines[p].PausedSince), ApiJsonContext.Default.DerivedWorkDto);
    }

    /// <summary>The one id (of a value, an execution, a snapshot or a code version) that starts with a prefix, as git takes a short commit id.</summary>
    private static IResult ResolveId(string prefix, PipelineRouter router)
    {
        if (prefix.Length is < 4 or > 64 || !prefix.All(char.IsAsciiHexDigit))
        {
            return Problems.BadRequest("Invalid id prefix", "An id prefix is 4 to 64 hexadecimal digits.");
        }

        using var connection = router.Registry.Open();
        var matches = new RegistryReader(connection).IdsStartingWith(prefix.ToLowerInvariant(), 6);
        return matches switch
        {
            [] => Problems.NotFound($"No id starts with '{prefix}'"),
            [var (kind, id)] => Results.Json(new IdDto(kind, id), ApiJsonContext.Default.IdDto),
            _ => Problems.Status(StatusCodes.Status409Conflict, $"'{prefix}' is ambiguous",
                $"It starts {string.Join(", ", matches.Take(5).Select(m => $"{m.Kind} {m.Id}"))}{(matches.Count > 5 ? ", …" : "")}; give more of the id."),
        };
    }

    private static IResult GetValue(string id, PipelineRouter router)
    {
        using var connection = router.Registry.Open();
        var reader = new RegistryReader(connection);
        if (reader.Value(id) is not { } value)
        {
            return Problems.NotFound($"No value '{id}'");
        }

        var inputs = new Dictionary<string, IReadOnlyList<SourceValueDto>>(StringComparer.Ordinal);
        ExecutionDto? execution = null;
        if (value.SnapshotId is { } snapshot)
        {
            foreach (var group in reader.SourceInputs(snapshot).GroupBy(s => s.Input))
            {
                inputs[group.Key] = group.Select(s => new SourceValueDto(s.ValueId, s.ArrivedOn)).ToList();
            }
        }

        if (value.ExecutionId is { } executionId && reader.Execution(executionId) is { } e)
        {
            execution = ExecutionDto.From(e);
        }

        var cloudEvent = reader.IngressEvent(value.Id) is { } e2 ? IngressEventDto.From(e2) : null;
        return Results.Json(new ValueDetailDto(ValueDto.From(value), inputs, execution, cloudEvent), ApiJsonContext.Default.ValueDetailDto);
    }

    /// <summary>Media types a browser shows without running anything in them; any other content is served as a download.</summary>
    private static readonly FrozenSet<string> InlineMediaTypes = new[]
    {
        "text/plain", "text/csv", "text/tab-separated-values", "application/json", "application/octet-stream",
        "image/png", "image/jpeg", "image/gif", "image/webp",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The content of a value, with the media type it was stored with. The sender chose that type, so nothing in it may
    /// act on this origin: no sniffing, a sandboxing CSP, and anything but plain text, JSON, CSV and raster images
    /// (HTML, SVG, XML, scripts, …) as an attachment.
    /// </summary>
    private static async Task<IResult> GetContentAsync(string id, PipelineRouter router, IArtifactStore store, HttpResponse response, CancellationToken cancellationToken)
    {
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        ValueRecord? value;
        using (var connection = router.Registry.Open())
        {
            value = new RegistryReader(connection).Value(id);
        }

        if (value is null)
        {
            return Problems.NotFound($"No value '{id}'");
        }

        try
        {
            var stream = await store.OpenReadAsync(value.Sha256, cancellationToken);
            var mediaType = Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(value.MediaType, out var parsed) ? parsed.MediaType.Value : null;
            if (mediaType is null || !(InlineMediaTypes.Contains(mediaType) || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)))
            {
                response.Headers.ContentDisposition = $"attachment; filename=\"{value.Id}\"";
            }

            return Results.Stream(stream, value.MediaType, entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{value.Sha256}\""), enableRangeProcessing: true);
        }
        catch (ArtifactNotFoundException)
        {
            return Problems.Status(StatusCodes.Status410Gone, $"The content of value '{id}' is gone", $"Nothing is stored under sha256:{value.Sha256}.");
        }
    }
}
