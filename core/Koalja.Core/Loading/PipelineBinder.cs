using System.Text.Json;
using Koalja.Core.Diagnostics;
using Koalja.Core.Source;
using Koalja.Core.Spec;

namespace Koalja.Core.Loading;

/// <summary>
/// Binds a Pipeline document to the spec model, strictly: wrong shapes and unknown fields are errors
/// (with the position of the field), every other field keeps its position for the validator.
/// </summary>
internal static class PipelineBinder
{
    private static readonly string[] IgnoredMetadataFields =
    [
        "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
        "deletionGracePeriodSeconds", "ownerReferences", "finalizers", "managedFields", "generateName", "selfLink",
    ];

    public static Pipeline Bind(MappingNode root, DiagnosticBag bag) =>
        FieldReader.ReadObject(root, "", bag, r =>
        {
            var pipeline = new Pipeline
            {
                ApiVersion = r.String("apiVersion") ?? "",
                Kind = r.String("kind") ?? "",
                Metadata = r.Object("metadata", BindMetadata) ?? new ObjectMetadata(),
                Spec = r.Object("spec", BindSpec) ?? new PipelineSpec(),
            };
            r.Ignore("status");
            return pipeline;
        });

    private static ObjectMetadata BindMetadata(FieldReader r)
    {
        r.Ignore(IgnoredMetadataFields);
        return new ObjectMetadata
        {
            Name = r.String("name") ?? "",
            Namespace = r.String("namespace"),
            Labels = r.StringMap("labels"),
            Annotations = r.StringMap("annotations"),
        };
    }

    private static PipelineSpec BindSpec(FieldReader r) => new()
    {
        Tasks = r.ObjectList("tasks", BindTask),
        Links = r.ObjectList("links", BindLink),
        Types = r.ObjectList("types", BindType),
    };

    private static TaskSpec BindTask(FieldReader r) => new()
    {
        Name = r.String("name") ?? "",
        Type = r.String("type"),
        Executor = r.Object("executor", BindExecutor),
        SnapshotPolicy = r.String("snapshotPolicy"),
        LaunchPolicy = r.String("launchPolicy"),
        MaxReplicas = r.Integer("maxReplicas"),
        Service = r.Object("service", s => new ServiceSpec
        {
            Ports = s.ObjectList("ports", BindPort),
        }),
        Inputs = r.ObjectList("inputs", BindInput),
        Outputs = r.ObjectList("outputs", BindOutput),
        Options = r.StringMap("options") is { Count: > 0 } options ? options : null,
    };

    private static TaskInputSpec BindInput(FieldReader r) => new()
    {
        Name = r.String("name") ?? "",
        TypeRef = r.String("typeRef") ?? "",
        RequiredSequenceLength = r.Integer("requiredSequenceLength"),
        MinSequenceLength = r.Integer("minSequenceLength"),
        MaxSequenceLength = r.Integer("maxSequenceLength"),
        Slide = r.Integer("slide"),
        MergeInto = r.String("mergeInto"),
    };

    private static TaskOutputSpec BindOutput(FieldReader r) => new()
    {
        Name = r.String("name") ?? "",
        TypeRef = r.String("typeRef") ?? "",
        Ready = r.String("ready"),
        Options = r.StringMap("options"),
    };

    private static ExecutorSpec BindExecutor(FieldReader r)
    {
        var executor = new ExecutorSpec
        {
            Name = r.String("name"),
            Image = r.String("image"),
            Command = r.StringList("command"),
            Args = r.StringList("args"),
            WorkingDir = r.String("workingDir"),
            Env = r.ObjectList("env", e => new EnvVarSpec
            {
                Name = e.String("name") ?? "",
                Value = e.String("value"),
                ValueFrom = e.Raw("valueFrom"),
            }),
        };
        var other = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var field in ExecutorSpec.PassThroughFields)
        {
            if (r.Raw(field) is { } value)
            {
                other[field] = value;
            }
        }

        return executor with { OtherFields = other };
    }

    private static ServicePortSpec BindPort(FieldReader r) => new()
    {
        Name = r.String("name") ?? "",
        Port = r.Integer("port"),
        LocalPort = r.Integer("localPort"),
    };

    private static LinkSpec BindLink(FieldReader r) => new()
    {
        Name = r.String("name") ?? "",
        SourceRef = r.String("sourceRef") ?? "",
        DestinationRef = r.String("destinationRef") ?? "",
    };

    private static TypeSpec BindType(FieldReader r) => new()
    {
        Name = r.String("name") ?? "",
        Protocol = r.String("protocol"),
        Format = r.String("format"),
    };
}
