namespace Koalja.Core.Events;

/// <summary>Names of CloudEvents 1.0 attributes, of the extensions Koalja reads and writes, and of Koalja's event types.</summary>
public static class CloudEventAttributes
{
    public const string SpecVersion = "specversion";
    public const string Id = "id";
    public const string Source = "source";
    public const string Type = "type";
    public const string DataContentType = "datacontenttype";
    public const string DataSchema = "dataschema";
    public const string Subject = "subject";
    public const string Time = "time";

    /// <summary>The Dataref extension: where the data is, when it is not in the event.</summary>
    public const string DataRef = "dataref";

    /// <summary>The event that caused this one (for Koalja: the snapshot whose execution produced the value).</summary>
    public const string CausationId = "causationid";

    /// <summary>Distributed tracing (W3C Trace Context).</summary>
    public const string TraceParent = "traceparent";

    /// <summary>Which FileDrop task of the pipeline an ingress event is for.</summary>
    public const string KoaljaTask = "koaljatask";

    /// <summary>Which output of a task a value is on.</summary>
    public const string KoaljaOutput = "koaljaoutput";

    /// <summary>The attempt of a snapshot's execution.</summary>
    public const string KoaljaAttempt = "koaljaattempt";

    public const string KoaljaPipeline = "koaljapipeline";
    public const string KoaljaIndex = "koaljaindex";
    public const string KoaljaSha256 = "koaljasha256";
    public const string KoaljaSize = "koaljasize";
    public const string KoaljaCodeVersion = "koaljacodeversion";
    public const string KoaljaRevision = "koaljarevision";

    /// <summary>The only specification version Koalja reads and writes.</summary>
    public const string Version10 = "1.0";

    /// <summary>A value (data or its <c>dataref</c>, with provenance): ingress, task answers, sinks, the live stream.</summary>
    public const string ValueEventType = "io.koalja.value";

    /// <summary>A ready snapshot, sent by the router to a task function.</summary>
    public const string SnapshotEventType = "io.koalja.snapshot";

    /// <summary>How an execution went (times, exit code, log), at the end of a task function's answer.</summary>
    public const string ExecutionEventType = "io.koalja.execution";

    public const string StructuredMediaType = "application/cloudevents+json";
    public const string BatchMediaType = "application/cloudevents-batch+json";

    /// <summary>The attributes every event has.</summary>
    public static readonly IReadOnlyList<string> Required = [Id, Source, SpecVersion, Type];

    /// <summary>The attributes the specification defines (the others are extensions).</summary>
    public static readonly IReadOnlyList<string> Defined = [Id, Source, SpecVersion, Type, DataContentType, DataSchema, Subject, Time];
}
