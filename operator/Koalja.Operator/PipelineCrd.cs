using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using k8s.Models;
using Koalja.Core.Scaling;
using Koalja.Core.Spec;
using Koalja.Core.Validation;

namespace Koalja.Operator;

/// <summary>
/// The <c>Pipeline</c> CustomResourceDefinition (<c>apiextensions.k8s.io/v1</c>, valid for a Kubernetes 1.20 API
/// server). Its structural schema is generated from the spec records in <c>Koalja.Core.Spec</c> by reflection, with
/// the JSON names <c>System.Text.Json</c> writes, so that it cannot drift from the model; infra/crd holds it as YAML
/// (a test compares the two). The schema rejects up front what is simple to say in OpenAPI and exactly a rule of the
/// validator; everything else is left to the operator's <c>Valid</c> condition.
/// </summary>
public static class PipelineCrd
{
    public const string Plural = "pipelines";
    public const string Singular = "pipeline";
    public const string ShortName = "kpl";
    public const string Name = Plural + "." + Pipeline.Group;

    private static readonly string[] ConditionStatuses = ["True", "False", "Unknown"];

    /// <summary>The spec records whose properties become the schema, each exactly once.</summary>
    public static readonly IReadOnlyList<Type> SpecRecords =
    [
        typeof(PipelineSpec), typeof(TaskSpec), typeof(TaskInputSpec), typeof(TaskOutputSpec), typeof(LinkSpec), typeof(TypeSpec),
        typeof(ServiceSpec), typeof(ServicePortSpec), typeof(ExecutorSpec), typeof(EnvVarSpec),
    ];

    /// <summary>Required fields, where the validator reports their absence.</summary>
    private static readonly Dictionary<Type, string[]> RequiredFields = new()
    {
        [typeof(PipelineSpec)] = ["tasks"],
        [typeof(TaskSpec)] = ["name"],
        [typeof(TaskInputSpec)] = ["name", "typeRef"],
        [typeof(TaskOutputSpec)] = ["name", "typeRef"],
        [typeof(LinkSpec)] = ["name", "sourceRef", "destinationRef"],
        [typeof(TypeSpec)] = ["name", "protocol"],
        [typeof(ServicePortSpec)] = ["name", "port"],
    };

    /// <summary>Constraints on single fields: exactly the validator's rules, where OpenAPI says them simply.</summary>
    private static readonly Dictionary<(Type Record, string Field), Action<V1JSONSchemaProps>> FieldRules = new()
    {
        [(typeof(PipelineSpec), "tasks")] = s => s.MinItems = 1,
        [(typeof(TaskSpec), "name")] = KoaljaName,
        [(typeof(TaskSpec), "snapshotPolicy")] = s =>
        {
            s.EnumProperty = [.. SpecEnums.SnapshotPolicies];
            s.DefaultProperty = nameof(SnapshotPolicy.AllNew);
        },
        [(typeof(TaskSpec), "launchPolicy")] = s => s.EnumProperty = [.. SpecEnums.LaunchPolicies],
        [(typeof(TaskSpec), "maxReplicas")] = s => Range(s, 1, ScalingDecision.MostReplicas),
        [(typeof(TaskInputSpec), "name")] = KoaljaName,
        [(typeof(TaskInputSpec), "requiredSequenceLength")] = s => Range(s, 1, TaskInputSpec.SequenceLengthLimit),
        [(typeof(TaskInputSpec), "minSequenceLength")] = s => Range(s, 1, TaskInputSpec.SequenceLengthLimit),
        [(typeof(TaskInputSpec), "maxSequenceLength")] = s => Range(s, 1, TaskInputSpec.SequenceLengthLimit),
        [(typeof(TaskInputSpec), "slide")] = s => s.Minimum = 1,
        [(typeof(TaskOutputSpec), "name")] = KoaljaName,
        [(typeof(TaskOutputSpec), "ready")] = s => s.EnumProperty = [.. SpecEnums.OutputReadinesses],
        [(typeof(LinkSpec), "name")] = KoaljaName,
        [(typeof(TypeSpec), "name")] = KoaljaName,
        [(typeof(TypeSpec), "protocol")] = s => s.EnumProperty = [TypeSpec.ProtocolFile],
        [(typeof(ServicePortSpec), "name")] = s => s.MaxLength = NameRules.MaxPortNameLength,
        [(typeof(ServicePortSpec), "port")] = s => Range(s, 1, 65535),
        [(typeof(ServicePortSpec), "localPort")] = s => Range(s, 0, 65535),
    };

    /// <summary>What <c>kubectl explain</c> shows for the records and some fields.</summary>
    private static readonly Dictionary<(Type Record, string? Field), string> Descriptions = new()
    {
        [(typeof(PipelineSpec), null)] = "Tasks joined by links, and the types of the values that flow along them.",
        [(typeof(TaskSpec), null)] = "One step of the pipeline: inputs, outputs, and what runs (an executor or a built-in type).",
        [(typeof(TaskSpec), "type")] = "A built-in task type (" + string.Join(", ", BuiltInTaskTypes.All) + "); empty when an executor runs.",
        [(typeof(TaskSpec), "maxReplicas")] = "The most replicas of the task at once (1 for an order-sensitive task whatever this says); default: the operator's.",
        [(typeof(TaskSpec), "launchPolicy")] = "Empty: Auto for a task with inputs, Custom without.",
        [(typeof(TaskSpec), "options")] = "Settings of a built-in task type (a CloudEventSink's url and mode).",
        [(typeof(TaskInputSpec), null)] = "An input of a task and how many values of it one execution takes.",
        [(typeof(TaskInputSpec), "mergeInto")] = "Another input of the same task whose sequence this input's values join.",
        [(typeof(TaskOutputSpec), "ready")] = "When the output's values are published; empty means Succeeded.",
        [(typeof(LinkSpec), null)] = "Joins an output of one task (task/output) to an input of another (task/input).",
        [(typeof(TypeSpec), null)] = "A named type of value: how it travels (protocol) and what it holds (format, informational).",
        [(typeof(ExecutorSpec), null)] = "The container that runs the task (a core/v1 Container); command and args are templates. "
            + "Other container fields are passed on to the cluster unchanged: " + string.Join(", ", ExecutorSpec.PassThroughFields) + ".",
        [(typeof(EnvVarSpec), "valueFrom")] = "A core/v1 EnvVarSource, passed on unchanged.",
    };

    public static V1CustomResourceDefinition Build() => new()
    {
        ApiVersion = "apiextensions.k8s.io/v1",
        Kind = "CustomResourceDefinition",
        Metadata = new V1ObjectMeta
        {
            Name = Name,
            Labels = new Dictionary<string, string> { ["app.kubernetes.io/part-of"] = "koalja" },
        },
        Spec = new V1CustomResourceDefinitionSpec
        {
            Group = Pipeline.Group,
            Scope = "Namespaced",
            Names = new V1CustomResourceDefinitionNames
            {
                Kind = Pipeline.KindValue,
                ListKind = Pipeline.KindValue + "List",
                Plural = Plural,
                Singular = Singular,
                ShortNames = [ShortName],
                Categories = ["koalja"],
            },
            Versions =
            [
                new V1CustomResourceDefinitionVersion
                {
                    Name = Pipeline.Version,
                    Served = true,
                    Storage = true,
                    Subresources = new V1CustomResourceSubresources { Status = new Dictionary<string, object>() },
                    AdditionalPrinterColumns =
                    [
                        Column("Valid", "string", ".status.conditions[?(@.type==\"Valid\")].status", "Whether the pipeline passed validation"),
                        Column("Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status", "Whether the pipeline's router is available"),
                        Column("URL", "string", ".status.url", "Where the pipeline's API is reached"),
                        Column("Age", "date", ".metadata.creationTimestamp", null),
                    ],
                    Schema = new V1CustomResourceValidation { OpenAPIV3Schema = RootSchema() },
                },
            ],
        },
    };

    /// <summary>The schema of a whole Pipeline resource.</summary>
    public static V1JSONSchemaProps RootSchema()
    {
        var used = new HashSet<(Type, string)>();
        var spec = RecordSchema(typeof(PipelineSpec), used);
        var unused = FieldRules.Keys.Where(k => !used.Contains(k)).ToList();
        if (unused.Count > 0)
        {
            throw new InvalidOperationException("PipelineCrd has rules for fields the spec records do not have: "
                + string.Join(", ", unused.Select(k => $"{k.Record.Name}.{k.Field}")));
        }

        return new V1JSONSchemaProps
        {
            Description = "A Koalja pipeline: tasks joined by links (koalja.aljabr.io/v1alpha1, as in the original Koalja).",
            Type = "object",
            Required = ["spec"],
            Properties = new Dictionary<string, V1JSONSchemaProps>
            {
                ["apiVersion"] = new() { Type = "string" },
                ["kind"] = new() { Type = "string" },
                ["metadata"] = new() { Type = "object" },
                ["spec"] = spec,
                ["status"] = StatusSchema(),
            },
        };
    }

    /// <summary>
    /// The JSON properties of a spec record as <c>System.Text.Json</c> writes them (camelCase, <c>[JsonIgnore]</c>
    /// left out), in declaration order.
    /// </summary>
    public static IEnumerable<(PropertyInfo Property, string JsonName)> JsonProperties(Type record) =>
        record.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0 && p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
            .OrderBy(p => p.MetadataToken)
            .Select(p => (p, p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(p.Name)));

    /// <summary>
    /// Whether a property holds the fields the binder keeps aside for the cluster (<c>otherFields</c>): not a field of
    /// its own; the object keeps unknown fields instead.
    /// </summary>
    public static bool IsPassThrough(PropertyInfo property) =>
        property.PropertyType == typeof(IReadOnlyDictionary<string, JsonElement>);

    private static V1JSONSchemaProps RecordSchema(Type record, HashSet<(Type, string)> used)
    {
        if (!SpecRecords.Contains(record))
        {
            throw new InvalidOperationException($"{record.Name} is not one of PipelineCrd.SpecRecords; add it there.");
        }

        var schema = new V1JSONSchemaProps
        {
            Type = "object",
            Description = Descriptions.GetValueOrDefault((record, null)),
            Properties = new Dictionary<string, V1JSONSchemaProps>(StringComparer.Ordinal),
        };
        foreach (var (property, name) in JsonProperties(record))
        {
            if (IsPassThrough(property))
            {
                schema.XKubernetesPreserveUnknownFields = true;
                continue;
            }

            var field = TypeSchema(property.PropertyType, used);
            field.Description ??= Descriptions.GetValueOrDefault((record, name));
            if (FieldRules.TryGetValue((record, name), out var rule))
            {
                rule(field);
                used.Add((record, name));
            }

            schema.Properties[name] = field;
        }

        if (RequiredFields.TryGetValue(record, out var required))
        {
            var missing = required.Where(r => !schema.Properties.ContainsKey(r)).ToList();
            if (missing.Count > 0)
            {
                throw new InvalidOperationException($"PipelineCrd requires fields {record.Name} does not have: {string.Join(", ", missing)}");
            }

            schema.Required = required;
        }

        return schema;
    }

    private static V1JSONSchemaProps TypeSchema(Type type, HashSet<(Type, string)> used)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(string))
        {
            return new V1JSONSchemaProps { Type = "string" };
        }

        if (underlying == typeof(long) || underlying == typeof(int))
        {
            return new V1JSONSchemaProps { Type = "integer", Format = "int64" };
        }

        if (underlying == typeof(bool))
        {
            return new V1JSONSchemaProps { Type = "boolean" };
        }

        if (underlying == typeof(JsonElement))
        {
            // Kubernetes' own shape (an EnvVarSource), passed on as written.
            return new V1JSONSchemaProps { Type = "object", XKubernetesPreserveUnknownFields = true };
        }

        if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
        {
            return new V1JSONSchemaProps { Type = "array", Items = TypeSchema(underlying.GetGenericArguments()[0], used) };
        }

        if (underlying == typeof(IReadOnlyDictionary<string, string>))
        {
            return new V1JSONSchemaProps { Type = "object", AdditionalProperties = new V1JSONSchemaProps { Type = "string" } };
        }

        if (underlying.IsClass && underlying.Namespace == typeof(PipelineSpec).Namespace)
        {
            return RecordSchema(underlying, used);
        }

        throw new InvalidOperationException($"PipelineCrd has no schema for {type}; say how it is written in TypeSchema.");
    }

    private static V1JSONSchemaProps StatusSchema() => new()
    {
        Description = "What the operator observed: its conditions (Valid with every validation error, Ready) and where the pipeline is reached.",
        Type = "object",
        XKubernetesPreserveUnknownFields = true,
        Properties = new Dictionary<string, V1JSONSchemaProps>
        {
            ["observedGeneration"] = new() { Type = "integer", Format = "int64" },
            ["url"] = new() { Type = "string" },
            ["conditions"] = new()
            {
                Type = "array",
                Items = new V1JSONSchemaProps
                {
                    Type = "object",
                    Required = ["type", "status"],
                    Properties = new Dictionary<string, V1JSONSchemaProps>
                    {
                        ["type"] = new() { Type = "string" },
                        ["status"] = new() { Type = "string", EnumProperty = [.. ConditionStatuses] },
                        ["reason"] = new() { Type = "string" },
                        ["message"] = new() { Type = "string" },
                        ["lastTransitionTime"] = new() { Type = "string", Format = "date-time" },
                        ["observedGeneration"] = new() { Type = "integer", Format = "int64" },
                    },
                },
            },
        },
    };

    /// <summary>A task, input, output, link or type name: the validator's rule, exactly.</summary>
    private static void KoaljaName(V1JSONSchemaProps schema)
    {
        schema.Pattern = NameRules.NamePatternText;
        schema.MaxLength = NameRules.MaxNameLength;
    }

    private static void Range(V1JSONSchemaProps schema, long minimum, long maximum)
    {
        schema.Minimum = minimum;
        schema.Maximum = maximum;
    }

    private static V1CustomResourceColumnDefinition Column(string name, string type, string jsonPath, string? description) => new()
    {
        Name = name,
        Type = type,
        JsonPath = jsonPath,
        Description = description,
    };
}
