using System.Collections.Concurrent;
using System.Net.Mime;
using System.Runtime.CompilerServices;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Koalja.Core.Spec;
using Koalja.Core.Events;
using A = Koalja.Core.Events.CloudEventAttributes;

namespace Koalja.Core.Contract;

/// <summary>
/// The router → task function contract: an <c>io.koalja.snapshot</c> event whose <c>id</c> is the snapshot id,
/// <c>source</c> the task, extensions <c>koaljaattempt</c> and <c>traceparent</c>, and whose JSON data holds the
/// pipeline, revision, task, code version, each input's ordered values, the outputs and the pipeline spec, so a
/// task function needs nothing else.
/// </summary>
public static class SnapshotEvents
{
    public static readonly CloudEventAttribute TraceParent = CloudEventAttribute.CreateExtension(A.TraceParent, CloudEventAttributeType.String);

    /// <summary>Extensions to decode a snapshot event with.</summary>
    public static readonly IReadOnlyList<CloudEventAttribute> Extensions = [ValueEvents.Attempt, TraceParent];

    private static readonly JsonEventFormatter Formatter = new();

    /// <summary>Each spec's JSON, made once: a pipeline's spec is the same in every snapshot event it sends.</summary>
    private static readonly ConditionalWeakTable<PipelineSpec, StrongBox<JsonElement>> SpecElements = new();

    /// <summary>Specs read, by their JSON text (at most <see cref="MaxSpecs"/>): a task function reads the same few again and again.</summary>
    private static readonly ConcurrentDictionary<string, PipelineSpec> SpecsRead = new(StringComparer.Ordinal);

    private const int MaxSpecs = 64;

    /// <summary>The snapshot event of an invocation in structured mode (<c>application/cloudevents+json</c>), as a task function receives it.</summary>
    public static ContractMessage Encode(TaskInvocation invocation, string? traceParent = null)
    {
        var body = Formatter.EncodeStructuredModeMessage(Create(invocation, traceParent), out var contentType);
        return new ContractMessage(contentType.ToString(), body);
    }

    /// <summary>The invocation a structured-mode snapshot event asks for.</summary>
    /// <exception cref="FormatException">The message is not a well-formed <c>io.koalja.snapshot</c> event in structured mode.</exception>
    public static TaskInvocation Decode(ContractMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        ContentType contentType;
        try
        {
            contentType = new ContentType(message.ContentType);
        }
        catch (FormatException e)
        {
            throw new FormatException($"'{message.ContentType}' is not a media type.", e);
        }

        if (!string.Equals(contentType.MediaType, A.StructuredMediaType, StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException($"A snapshot event comes as {A.StructuredMediaType} here, not '{contentType.MediaType}'.");
        }

        CloudEvent evt;
        try
        {
            evt = Formatter.DecodeStructuredModeMessage(message.Body, contentType, Extensions);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw new FormatException($"The snapshot event is not a well-formed CloudEvent: {e.Message}", e);
        }

        return Read(evt);
    }

    /// <summary>
    /// The invocation a snapshot event over HTTP asks for, in either content mode: structured (the body is the event) or
    /// binary (the attributes are <c>ce-*</c> headers, the body is the event's JSON data).
    /// </summary>
    /// <exception cref="FormatException">The request is not a well-formed <c>io.koalja.snapshot</c> event.</exception>
    public static TaskInvocation DecodeHttp(string? contentType, IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> headers, ReadOnlyMemory<byte> body)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var headerList = headers as IReadOnlyCollection<KeyValuePair<string, IReadOnlyList<string>>> ?? headers.ToList();
        var hasSpecVersion = headerList.Any(h => string.Equals(h.Key, CloudEventBinding.HeaderPrefix + A.SpecVersion, StringComparison.OrdinalIgnoreCase));
        switch (CloudEventBinding.ModeOf(contentType, hasSpecVersion))
        {
            case EventMode.Structured:
                return Decode(new ContractMessage(contentType!, body));
            case EventMode.Binary:
                var incoming = CloudEventBinding.ReadBinary(headerList, contentType);
                if (incoming.Event is not { } evt)
                {
                    throw new FormatException("The snapshot event's headers are not a CloudEvent: " + string.Join("; ", incoming.Violations.Select(v => v.Message)));
                }

                evt.Data = body.ToArray();
                return Read(evt);
            case EventMode.Batch:
                throw new FormatException("A task function takes one snapshot event per request, not a batch.");
            default:
                throw new FormatException($"The request is not a CloudEvent: send an {A.SnapshotEventType} event in structured mode ({A.StructuredMediaType}) or in binary mode (ce-* headers).");
        }
    }

    public static CloudEvent Create(TaskInvocation invocation, string? traceParent = null)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var task = invocation.TaskSpec;
        var code = invocation.Code is { } c
            ? new CodeData(c.Version, c.Kind, ArtifactUri.For(c.Sha256), c.Sha256, c.Entrypoint)
            : new CodeData(invocation.CodeVersion);
        var data = new SnapshotData(invocation.Pipeline, invocation.Namespace, invocation.Revision, invocation.Task, invocation.SnapshotId, invocation.Attempt, code,
            invocation.Inputs.Select(i => new InputData(i.Name, i.Values.Select(v => new InputValueData(v.ValueId, ArtifactUri.For(v.Sha256), v.Sha256, v.Size, v.MediaType, v.Origin)).ToList())).ToList(),
            task.Outputs.Select(o => new OutputData(o.Name, o.TypeRef)).ToList(),
            SpecElements.GetValue(invocation.Spec, spec => new StrongBox<JsonElement>(PipelineSpecJson.ToElement(spec))).Value, invocation.PipelineDirectory);
        var evt = new CloudEvent(CloudEventsSpecVersion.V1_0, Extensions)
        {
            Id = invocation.SnapshotId,
            Source = new Uri(ValueEvents.SourceOf(invocation.Namespace, invocation.Pipeline, invocation.Task), UriKind.Relative),
            Type = A.SnapshotEventType,
            Time = DateTimeOffset.UtcNow,
            DataContentType = "application/json",
            Data = JsonSerializer.SerializeToElement(data, WireJsonContext.Default.SnapshotData),
        };
        evt[ValueEvents.Attempt] = invocation.Attempt;
        if (traceParent is not null)
        {
            evt[TraceParent] = traceParent;
        }

        return evt;
    }

    /// <summary>The invocation a snapshot event asks for.</summary>
    /// <exception cref="FormatException">The event is not a well-formed <c>io.koalja.snapshot</c> event.</exception>
    public static TaskInvocation Read(CloudEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        if (evt.Type != A.SnapshotEventType)
        {
            throw new FormatException($"Expected an {A.SnapshotEventType} event, not '{evt.Type}'.");
        }

        SnapshotData data;
        PipelineSpec spec;
        try
        {
            var element = evt.Data switch
            {
                JsonElement e => e,
                byte[] bytes => JsonDocument.Parse(bytes).RootElement,
                string text => JsonDocument.Parse(text).RootElement,
                _ => throw new FormatException("A snapshot event carries JSON data."),
            };
            data = element.Deserialize(WireJsonContext.Default.SnapshotData) ?? throw new FormatException("A snapshot event's data is an object, not null.");
            spec = ReadSpec(data.Spec);
        }
        catch (JsonException e)
        {
            throw new FormatException($"The snapshot event's data is not valid: {e.Message}", e);
        }

        if (data.Snapshot != evt.Id || spec.TaskByName(data.Task) is null)
        {
            throw new FormatException($"The snapshot event's data does not match the event (id '{evt.Id}', task '{data.Task}').");
        }

        var code = data.Code is { Kind: { } kind, Sha256: { } sha, Entrypoint: { } entrypoint } ? new TaskCode(data.Code.Version, kind, sha, entrypoint) : null;
        var inputs = data.Inputs.Select(i => new InvocationInput(i.Name, i.Values.Select(v => new InvocationValue(v.Id, v.Sha256, v.Size, v.MediaType, v.Origin)).ToList())).ToList();
        return new TaskInvocation(data.Pipeline, spec, data.Task, data.Code.Version, data.Snapshot, data.Attempt, inputs, code)
        {
            Namespace = data.Namespace,
            Revision = data.Revision,
            PipelineDirectory = data.PipelineDirectory,
        };
    }

    private static PipelineSpec ReadSpec(JsonElement element)
    {
        var text = element.GetRawText();
        if (SpecsRead.TryGetValue(text, out var known))
        {
            return known;
        }

        var spec = PipelineSpecJson.Deserialize(element);
        if (SpecsRead.Count >= MaxSpecs)
        {
            SpecsRead.Clear();
        }

        SpecsRead[text] = spec;
        return spec;
    }
}
