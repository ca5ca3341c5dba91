using CloudNative.CloudEvents;
using Koalja.Core.Events;
using Koalja.Core.Spec;
using Koalja.Storage;
using Koalja.Router.Registry;
using Koalja.Router.Runtime;
using Koalja.Tasks;

namespace Koalja.Router.Events;

/// <summary>How one ingress event ended: recorded (201), a repeat of a recorded one (200), or refused (4xx) with why.</summary>
internal sealed record EventOutcome(int Status, CloudEvent? Event, ValueRecord? Value, string? Title, IReadOnlyList<CloudEventViolation> Violations)
{
    public static EventOutcome Refused(int status, string title, params CloudEventViolation[] violations) => new(status, null, null, title, violations);
}

/// <summary>
/// Turns a CloudEvent into a value on a FileDrop task's output: the task named by the URL or the <c>koaljatask</c>
/// extension (or the pipeline's only FileDrop), the output named by <c>koaljaoutput</c> (or the first), the content
/// inline or fetched from <c>dataref</c>. A repeated (source, id) is acknowledged with the value recorded the first
/// time, and nothing is fetched or stored again.
/// </summary>
internal sealed class EventIngress(PipelineRouter router, IArtifactStore store, RuntimeOptions options, DataRefFetcher fetcher)
{
    /// <param name="body">The data of a binary-mode event (the request body), or null for a structured one.</param>
    public async Task<EventOutcome> IngestAsync(PipelineRuntime runtime, string? urlTask, CloudEvent evt, EventMode mode, Stream? body, bool bodyEmpty,
        CancellationToken cancellationToken)
    {
        var (target, problem) = Resolve(runtime, urlTask, evt);
        if (target is not { } resolved)
        {
            return problem!;
        }

        var (task, output) = resolved;
        var source = evt.Source!.OriginalString;
        var id = evt.Id!;
        using (var connection = router.Registry.Open())
        {
            var reader = new RegistryReader(connection);
            if (reader.IngressEventValue(runtime.Name, source, id) is { } known && reader.Value(known) is { } earlier)
            {
                return new EventOutcome(200, evt, earlier, null, []);
            }
        }

        var dataRef = (evt[ValueEvents.DataRef] as Uri)?.OriginalString;
        var inline = mode == EventMode.Binary ? null : CloudEventBinding.InlineData(evt);
        var mediaType = evt.DataContentType
            ?? (evt.Data is System.Text.Json.JsonElement ? "application/json" : MediaTypes.ForFormat(runtime.Spec.TypeByName(output.TypeRef)?.Format));
        StoredArtifact artifact;
        try
        {
            if (mode == EventMode.Binary && (!bodyEmpty || dataRef is null))
            {
                artifact = await store.PutAsync(body!, options.MaxDropBytes, cancellationToken);
            }
            else if (inline is not null || dataRef is null)
            {
                await using var content = new MemoryStream(inline ?? []);
                artifact = await store.PutAsync(content, options.MaxDropBytes, cancellationToken);
            }
            else
            {
                (artifact, var fetched) = await fetcher.FetchAsync(dataRef, options.MaxDropBytes,
                    (content, deadline) => store.PutAsync(content, options.MaxDropBytes, deadline), cancellationToken);
                if (evt.DataContentType is null && fetched is not null)
                {
                    mediaType = fetched;
                }
            }
        }
        catch (ArtifactTooLargeException)
        {
            return EventOutcome.Refused(413, "Event data too large",
                new CloudEventViolation(dataRef is null ? CloudEventJson.Data : CloudEventAttributes.DataRef, $"An event's data is limited to {options.MaxDropBytes:N0} bytes (koalja up --max-drop)"));
        }
        catch (DataRefException e)
        {
            return EventOutcome.Refused(422, "The event's dataref could not be fetched", new CloudEventViolation(CloudEventAttributes.DataRef, e.Message));
        }

        var record = new IngressEventRecord(source, id, evt.Type!, evt.Subject, evt.Time, mode.ToString().ToLowerInvariant());
        var (value, created) = await router.IngestAsync(runtime.Name, task.Name, output.Name, artifact, mediaType, null, null, record);
        return new EventOutcome(created ? 201 : 200, evt, value, null, []);
    }

    /// <summary>The FileDrop task and output an event goes to, or why it can go nowhere (400 naming the attribute).</summary>
    private static ((TaskSpec Task, TaskOutputSpec Output)? Target, EventOutcome? Problem) Resolve(PipelineRuntime runtime, string? urlTask, CloudEvent evt)
    {
        var named = evt[CloudEventAttributes.KoaljaTask]?.ToString();
        if (urlTask is not null && named is not null && named != urlTask)
        {
            return Bad(CloudEventAttributes.KoaljaTask, $"The event names task '{named}' (koaljatask) but was posted to task '{urlTask}'");
        }

        var drops = runtime.Spec.Tasks.Where(t => t.Type == BuiltInTaskTypes.FileDrop && t.Outputs.Count > 0).ToList();
        var list = drops.Count == 0 ? "none" : string.Join(", ", drops.Select(t => t.Name));
        TaskSpec task;
        if ((urlTask ?? named) is { } name)
        {
            if (drops.FirstOrDefault(t => t.Name == name) is not { } found)
            {
                var hint = Core.Diagnostics.Suggestions.DidYouMean(name, drops.Select(t => t.Name)) is { } mean ? $" ({mean})" : "";
                return Bad(CloudEventAttributes.KoaljaTask, $"Pipeline '{runtime.Name}' has no FileDrop task '{name}' to take the event{hint}; its FileDrop tasks are: {list}");
            }

            task = found;
        }
        else if (drops.Count == 1)
        {
            task = drops[0];
        }
        else
        {
            return Bad(CloudEventAttributes.KoaljaTask, drops.Count == 0
                ? $"Pipeline '{runtime.Name}' has no FileDrop task to take events"
                : $"Pipeline '{runtime.Name}' has {drops.Count} FileDrop tasks ({list}): name one in the event's 'koaljatask' extension attribute, or post to /pipelines/{runtime.Name}/<task>");
        }

        var outputName = evt[CloudEventAttributes.KoaljaOutput]?.ToString();
        return (outputName is null ? task.Outputs[0] : task.OutputByName(outputName)) is { } output
            ? ((task, output), null)
            : Bad(CloudEventAttributes.KoaljaOutput, $"Task '{task.Name}' has no output '{outputName}'; its outputs are: {string.Join(", ", task.Outputs.Select(o => o.Name))}");

        static ((TaskSpec, TaskOutputSpec)?, EventOutcome?) Bad(string attribute, string message) =>
            (null, EventOutcome.Refused(400, "The event cannot go to a task", new CloudEventViolation(attribute, message)));
    }
}
