using System.Globalization;
using CloudNative.CloudEvents;
using A = Koalja.Core.Events.CloudEventAttributes;

namespace Koalja.Core.Events;

/// <summary>
/// <c>io.koalja.value</c> events: what task functions answer, what sinks deliver and what the live stream shows.
/// <c>id</c> is the value id and <c>source</c> the task that made it (<c>/pipelines/{namespace}/{pipeline}/tasks/{task}</c>),
/// so (source, id) names one value everywhere; <c>subject</c> is the output, <c>time</c> when the value was recorded,
/// <c>dataref</c> where its content is, <c>causationid</c> the snapshot whose execution produced it, and
/// <c>koalja*</c> extensions carry the rest of its provenance.
/// </summary>
public static class ValueEvents
{
    /// <summary>Content up to this size may travel in the event itself; larger content only by <c>dataref</c>.</summary>
    public const int MaxInlineBytes = 64 * 1024;

    public static readonly CloudEventAttribute DataRef = CloudEventAttribute.CreateExtension(A.DataRef, CloudEventAttributeType.UriReference);
    public static readonly CloudEventAttribute CausationId = CloudEventAttribute.CreateExtension(A.CausationId, CloudEventAttributeType.String);
    public static readonly CloudEventAttribute Pipeline = CloudEventAttribute.CreateExtension(A.KoaljaPipeline, CloudEventAttributeType.String);
    public static readonly CloudEventAttribute Task = CloudEventAttribute.CreateExtension(A.KoaljaTask, CloudEventAttributeType.String);
    public static readonly CloudEventAttribute Output = CloudEventAttribute.CreateExtension(A.KoaljaOutput, CloudEventAttributeType.String);
    public static readonly CloudEventAttribute Index = CloudEventAttribute.CreateExtension(A.KoaljaIndex, CloudEventAttributeType.Integer);
    public static readonly CloudEventAttribute Sha256 = CloudEventAttribute.CreateExtension(A.KoaljaSha256, CloudEventAttributeType.String);

    /// <summary>A String: sizes go beyond the 32 bits of a CloudEvents Integer.</summary>
    public static readonly CloudEventAttribute Size = CloudEventAttribute.CreateExtension(A.KoaljaSize, CloudEventAttributeType.String);
    public static readonly CloudEventAttribute CodeVersion = CloudEventAttribute.CreateExtension(A.KoaljaCodeVersion, CloudEventAttributeType.String);
    public static readonly CloudEventAttribute Revision = CloudEventAttribute.CreateExtension(A.KoaljaRevision, CloudEventAttributeType.String);
    public static readonly CloudEventAttribute Attempt = CloudEventAttribute.CreateExtension(A.KoaljaAttempt, CloudEventAttributeType.Integer);

    /// <summary>The typed extensions to decode Koalja's events with.</summary>
    public static readonly IReadOnlyList<CloudEventAttribute> Extensions = [DataRef, CausationId, Pipeline, Task, Output, Index, Sha256, Size, CodeVersion, Revision, Attempt];

    public static string SourceOf(string @namespace, string pipeline, string task) => $"/pipelines/{@namespace}/{pipeline}/tasks/{task}";

    /// <summary>The event for a value whose content is at <paramref name="dataRef"/>; <paramref name="inline"/> also puts the content in the event.</summary>
    public static CloudEvent Create(ValueEventData value, string dataRef, byte[]? inline = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        var evt = new CloudEvent(CloudEventsSpecVersion.V1_0, Extensions)
        {
            Id = value.ValueId,
            Source = new Uri(SourceOf(value.Namespace, value.Pipeline, value.Task), UriKind.Relative),
            Type = A.ValueEventType,
            Subject = value.Output,
            Time = value.CreatedAt,
            DataContentType = value.MediaType,
        };
        evt[DataRef] = new Uri(dataRef, UriKind.RelativeOrAbsolute);
        evt[Pipeline] = value.Pipeline;
        evt[Task] = value.Task;
        evt[Output] = value.Output;
        evt[Index] = value.Index;
        evt[Sha256] = value.Sha256;
        evt[Size] = value.Size.ToString(CultureInfo.InvariantCulture);
        Set(evt, Revision, value.Revision);
        Set(evt, CodeVersion, value.CodeVersion);
        Set(evt, CausationId, value.SnapshotId);
        if (inline is not null)
        {
            evt.Data = inline;
        }

        return evt;
    }

    /// <summary>Reads a value event back.</summary>
    /// <exception cref="FormatException">The event is not an <c>io.koalja.value</c> event with its provenance.</exception>
    public static ValueEventData Read(CloudEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        if (evt.Type != A.ValueEventType)
        {
            throw new FormatException($"Expected an {A.ValueEventType} event, not '{evt.Type}'.");
        }

        var source = evt.Source?.OriginalString ?? "";
        var parts = source.Split('/');
        if (parts is not ["", "pipelines", var ns, var pipeline, "tasks", var task])
        {
            throw new FormatException($"The source '{source}' is not /pipelines/{{namespace}}/{{pipeline}}/tasks/{{task}}.");
        }

        return new ValueEventData(ns, pipeline, task, Required<string>(evt, Output), Required<int>(evt, Index), evt.Id ?? "", Required<string>(evt, Sha256),
            long.Parse(Required<string>(evt, Size), NumberStyles.None, CultureInfo.InvariantCulture), evt.DataContentType ?? "application/octet-stream",
            evt.Time ?? throw new FormatException("The event has no time."), evt[Revision] as string, evt[CodeVersion] as string, evt[CausationId] as string);
    }

    private static void Set(CloudEvent evt, CloudEventAttribute attribute, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            evt[attribute] = value;
        }
    }

    private static T Required<T>(CloudEvent evt, CloudEventAttribute attribute) =>
        evt[attribute] is T value ? value : throw new FormatException($"The event has no '{attribute.Name}' attribute.");
}
