using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Koalja.Core.Diagnostics;
using Koalja.Core.Loading;
using Koalja.Core.Spec;
using Koalja.Testing;
using YamlDotNet.RepresentationModel;

namespace Koalja.Operator.Tests;

/// <summary>
/// The Pipeline CRD (infra/crd/pipelines.koalja.aljabr.io.yaml) is generated from the spec records: the file is what
/// <see cref="PipelineCrd.Build"/> gives, the schema is structural (as a Kubernetes 1.20 API server requires), it has
/// exactly the fields the records and the binder have, every example passes it, and what it refuses the validator
/// refuses too. After a change to a spec record: <c>KOALJA_UPDATE_GOLDEN=1 dotnet test tests/Koalja.Operator.Tests</c>.
/// </summary>
public sealed partial class PipelineCrdTests
{
    private const string Header =
        "# Generated from PipelineCrd.Build (operator/Koalja.Operator/PipelineCrd.cs): the Pipeline CRD, its schema generated\n"
        + "# from the spec records in core/Koalja.Core/Spec. Do not edit; regenerate:\n"
        + "# KOALJA_UPDATE_GOLDEN=1 dotnet test tests/Koalja.Operator.Tests\n";

    /// <summary>A field name no binder reads, far from every real one (so the binder's hint lists all it knows).</summary>
    private const string Unknown = "zzqqxxwwvvkk";

    private static readonly string[] StructuralTypes = ["object", "array", "string", "integer", "number", "boolean"];

    private static string CrdFile => Path.Combine(Repository.Root, "infra", "crd", "pipelines.koalja.aljabr.io.yaml");

    private static V1JSONSchemaProps Schema => PipelineCrd.Build().Spec.Versions.Single().Schema.OpenAPIV3Schema;

    private static V1JSONSchemaProps SpecSchema => Schema.Properties["spec"];

    public static TheoryData<string> Examples() => PipelineManifestsTests.Examples();

    [Fact]
    public void TheCrdFileIsTheOneTheCodeImplies()
    {
        var expected = Header + PipelineManifests.ToYaml([PipelineCrd.Build()]);
        if (Environment.GetEnvironmentVariable("KOALJA_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(CrdFile, expected);
        }

        Assert.True(File.Exists(CrdFile), $"no {CrdFile}: run with KOALJA_UPDATE_GOLDEN=1 and review it");
        Assert.Equal(expected, File.ReadAllText(CrdFile));
    }

    [Fact]
    public void TheFileReadsBackAsTheSameDefinition()
    {
        var read = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(File.ReadAllText(CrdFile));
        Assert.Equal(PipelineManifests.ToYaml([PipelineCrd.Build()]), PipelineManifests.ToYaml([read]));
    }

    [Fact]
    public void ItNamesThePipelineKindAsTheControllerAndTheFilesDo()
    {
        var crd = PipelineCrd.Build();
        Assert.Equal(("apiextensions.k8s.io/v1", "CustomResourceDefinition", "pipelines.koalja.aljabr.io"), (crd.ApiVersion, crd.Kind, crd.Metadata.Name));
        Assert.Equal((Pipeline.Group, "Namespaced"), (crd.Spec.Group, crd.Spec.Scope));
        Assert.Equal((Pipeline.KindValue, PipelineCrd.Plural, "pipeline"), (crd.Spec.Names.Kind, crd.Spec.Names.Plural, crd.Spec.Names.Singular));
        Assert.Equal(["kpl"], crd.Spec.Names.ShortNames);
        var version = Assert.Single(crd.Spec.Versions);
        Assert.Equal((Pipeline.Version, true, true), (version.Name, version.Served, version.Storage));
        Assert.NotNull(version.Subresources.Status);
        Assert.Null(version.Subresources.Scale);
        Assert.Equal(["Valid", "Ready", "URL", "Age"], version.AdditionalPrinterColumns.Select(c => c.Name));
        Assert.Equal(".status.conditions[?(@.type==\"Valid\")].status", version.AdditionalPrinterColumns[0].JsonPath);
        Assert.Equal(".status.conditions[?(@.type==\"Ready\")].status", version.AdditionalPrinterColumns[1].JsonPath);
        Assert.Equal((".status.url", ".metadata.creationTimestamp", "date"),
            (version.AdditionalPrinterColumns[2].JsonPath, version.AdditionalPrinterColumns[3].JsonPath, version.AdditionalPrinterColumns[3].Type));
        Assert.Equal(["tasks"], SpecSchema.Required);
        Assert.Equal(1, SpecSchema.Properties["tasks"].MinItems);
        var status = Schema.Properties["status"];
        Assert.True(status.XKubernetesPreserveUnknownFields);
        Assert.Equal(["observedGeneration", "url", "conditions"], status.Properties.Keys);
        var condition = status.Properties["conditions"].Items as V1JSONSchemaProps;
        Assert.Equal(["type", "status", "reason", "message", "lastTransitionTime", "observedGeneration"], condition!.Properties.Keys);
        Assert.Equal(["True", "False", "Unknown"], condition.Properties["status"].EnumProperty.Cast<string>());
        Assert.Equal("date-time", condition.Properties["lastTransitionTime"].Format);
    }

    /// <summary>What an apiextensions.k8s.io/v1 API server (1.20) requires of a schema, and what Koalja's keeps to.</summary>
    [Fact]
    public void TheSchemaIsStructural()
    {
        var problems = new List<string>();
        Structural(Schema, "", problems);
        Assert.Empty(problems);
    }

    /// <summary>
    /// A spec with every field of every record set, as System.Text.Json writes it (the pipeline's revision, the router's
    /// document), has exactly the schema's properties at every level: none missing, none extra.
    /// </summary>
    [Fact]
    public void EveryJsonPropertyOfEachSpecRecordIsInTheSchemaAndTheSchemaHasNoOther()
    {
        var visited = new HashSet<Type>();
        var spec = (PipelineSpec)Filled(typeof(PipelineSpec), visited);
        Assert.Equal(PipelineCrd.SpecRecords.ToHashSet(), visited);

        var problems = new List<string>();
        SameFields(JsonNode.Parse(PipelineSpecJson.Serialize(spec))!, SpecSchema, "spec", problems);
        Assert.Empty(problems);
    }

    /// <summary>
    /// The binder (PipelineBinder.cs) is the truth about field names: a document with every schema field binds without
    /// an unknown field or a wrong shape, and where an unknown field is added to each object, the binder's own list of
    /// the fields it knows there is the schema's (the executor's: plus the container fields it passes on).
    /// </summary>
    [Fact]
    public void TheBinderReadsExactlyTheFieldsOfTheSchema()
    {
        var objects = new Dictionary<string, V1JSONSchemaProps>(StringComparer.Ordinal);
        var document = Sample(Schema, "", objects);
        document!["metadata"] = new JsonObject { ["name"] = "crd" };
        document["apiVersion"] = Pipeline.ApiVersionValue;
        document["kind"] = Pipeline.KindValue;

        var clean = PipelineLoader.LoadText(document.ToJsonString(), "crd.json");
        Assert.DoesNotContain(clean.Diagnostics, d => d.Code is DiagnosticCodes.UnknownField or DiagnosticCodes.WrongNodeType or DiagnosticCodes.NotAnInteger);

        foreach (var path in objects.Keys)
        {
            Locate(document, path)![Unknown] = "x";
        }

        var result = PipelineLoader.LoadText(document.ToJsonString(), "crd.json");
        var unknown = result.Diagnostics.Where(d => d.Code == DiagnosticCodes.UnknownField).ToDictionary(d => d.Path, d => d.Hint ?? "");
        Assert.Equal(objects.Keys.Select(p => Child(p, Unknown)).Order(StringComparer.Ordinal), unknown.Keys.Order(StringComparer.Ordinal));
        foreach (var (path, schema) in objects)
        {
            var hint = unknown[Child(path, Unknown)];
            Assert.StartsWith("known fields here: ", hint, StringComparison.Ordinal);
            var known = hint["known fields here: ".Length..].Split(", ").ToHashSet(StringComparer.Ordinal);
            var expected = schema.Properties.Keys.ToHashSet(StringComparer.Ordinal);
            if (schema.XKubernetesPreserveUnknownFields == true)
            {
                expected.UnionWith(ExecutorSpec.PassThroughFields); // kept by the schema, read (and passed on) by the binder
            }

            Assert.True(expected.SetEquals(known), $"{(path.Length > 0 ? path : "(root)")}: the binder knows {string.Join(", ", known.Order(StringComparer.Ordinal))}; the schema has {string.Join(", ", expected.Order(StringComparer.Ordinal))}");
        }
    }

    /// <summary>Each example, as kubectl sends it (its YAML as JSON) and as <c>koalja apply</c> does, passes the schema.</summary>
    [Theory]
    [MemberData(nameof(Examples))]
    public void EveryExamplePassesTheSchema(string example)
    {
        var path = Path.Combine(Repository.Root, "examples", example + ".yaml");
        var raw = YamlAsJson(File.ReadAllText(path));
        Assert.Empty(Check(raw, Schema));
        Assert.NotEmpty(raw["spec"]!["tasks"]!.AsArray());

        var pipeline = PipelineLoader.LoadFile(path).Pipelines[0].Pipeline;
        Assert.Empty(Check(PipelineManifests.Resource(pipeline, "team-a"), Schema));
    }

    public static TheoryData<string, string> Refusals() => new()
    {
        { "spec.tasks[1].maxReplicas", "0" },
        { "spec.tasks[1].maxReplicas", "10001" },
        { "spec.tasks[1].maxReplicas", "\"3\"" },
        { "spec.tasks[0].name", "\"1drop\"" },
        { "spec.tasks[0].name", $"\"{new string('a', 64)}\"" },
        { "spec.tasks[1].snapshotPolicy", "\"Newest\"" },
        { "spec.tasks[1].launchPolicy", "\"Sometimes\"" },
        { "spec.tasks[1].inputs[0].minSequenceLength", "0" },
        { "spec.tasks[1].inputs[0].requiredSequenceLength", "1000001" },
        { "spec.tasks[1].inputs[0].slide", "0" },
        { "spec.tasks[1].inputs[0].typeRef", "null" },
        { "spec.tasks[0].outputs[0].ready", "\"Later\"" },
        { "spec.links[0].sourceRef", "null" },
        { "spec.links[0].name", "\"to uniq\"" },
        { "spec.types[0].protocol", "\"Http\"" },
        { "spec.types[0].protocol", "null" },
        { "spec.tasks[1].service", "{\"ports\":[{\"name\":\"http\",\"port\":70000}]}" },
        { "spec.tasks[1].service", "{\"ports\":[{\"name\":\"a-very-long-port-name\",\"port\":80}]}" },
        { "spec.tasks[1].service", "{\"ports\":[{\"name\":\"http\"}]}" },
        { "spec.tasks[1].comand", "[\"ls\"]" },
        { "spec.tasks[1].executor.command", "\"ls\"" },
    };

    /// <summary>What the schema refuses (or prunes, an unknown field) the validator refuses too: the schema only says early what the operator would.</summary>
    [Theory]
    [MemberData(nameof(Refusals))]
    public void WhatTheSchemaRefusesTheValidatorRefuses(string field, string json)
    {
        var document = YamlAsJson(File.ReadAllText(Path.Combine(Repository.Root, "examples", "linecount.yaml")));
        var (parent, name) = Parent(field);
        var target = Locate(document, parent)!.AsObject();
        if (json == "null")
        {
            target.Remove(name);
        }
        else
        {
            target[name] = JsonNode.Parse(json);
        }

        Assert.NotEmpty(Check(document, Schema));
        var loaded = PipelineLoader.LoadText(document.ToJsonString(), "refused.json");
        Assert.NotEmpty(loaded.Errors);
    }

    /// <summary>The one rule the schema adds: a pipeline without tasks (which the validator lets through; it runs nothing).</summary>
    [Fact]
    public void APipelineWithoutTasksIsRefused()
    {
        var document = YamlAsJson(File.ReadAllText(Path.Combine(Repository.Root, "examples", "linecount.yaml")));
        document["spec"] = new JsonObject { ["tasks"] = new JsonArray() };
        Assert.Contains(Check(document, Schema), p => p.Contains("spec.tasks", StringComparison.Ordinal));
        document["spec"] = new JsonObject();
        Assert.Contains(Check(document, Schema), p => p.Contains("tasks", StringComparison.Ordinal));
    }

    private static void Structural(V1JSONSchemaProps schema, string path, List<string> problems)
    {
        var at = path.Length > 0 ? path : "(root)";
        if (!StructuralTypes.Contains(schema.Type))
        {
            problems.Add($"{at}: no type");
        }

        if (schema.XKubernetesValidations is { Count: > 0 })
        {
            problems.Add($"{at}: x-kubernetes-validations (not in 1.20)");
        }

        if (schema.AllOf is not null || schema.AnyOf is not null || schema.OneOf is not null || schema.Not is not null || schema.RefProperty is not null
            || schema.Definitions is not null || schema.Dependencies is not null || schema.AdditionalItems is not null || schema.PatternProperties is not null
            || schema.Nullable is not null || schema.XKubernetesEmbeddedResource is not null || schema.XKubernetesIntOrString is not null)
        {
            problems.Add($"{at}: a construct Koalja's schema does not need");
        }

        if (schema.DefaultProperty is { } value
            && (path.StartsWith("metadata", StringComparison.Ordinal) || schema.EnumProperty?.Contains(value) != true))
        {
            problems.Add($"{at}: default '{value}' is not one of its enum, or is under metadata");
        }

        if (schema.Required is { } required && required.Any(r => schema.Properties?.ContainsKey(r) != true))
        {
            problems.Add($"{at}: requires a field it does not define");
        }

        if (schema.Type == "array" && schema.Items is not V1JSONSchemaProps)
        {
            problems.Add($"{at}: an array without items");
        }

        if (schema.Type == "object" && schema.Properties is null && schema.AdditionalProperties is null && schema.XKubernetesPreserveUnknownFields != true && path != "metadata")
        {
            problems.Add($"{at}: an object that says nothing of its fields");
        }

        if (schema.Properties is not null && schema.AdditionalProperties is not null)
        {
            problems.Add($"{at}: both properties and additionalProperties");
        }

        foreach (var (name, property) in schema.Properties ?? new Dictionary<string, V1JSONSchemaProps>())
        {
            Structural(property, Child(path, name), problems);
        }

        if (schema.Items is V1JSONSchemaProps items)
        {
            Structural(items, path + "[]", problems);
        }

        if (schema.AdditionalProperties is V1JSONSchemaProps values)
        {
            Structural(values, path + ".*", problems);
        }
    }

    /// <summary>An instance of a spec record with every settable property set (lists of one, maps of one).</summary>
    private static object Filled(Type type, HashSet<Type> visited)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(string))
        {
            return "a";
        }

        if (underlying == typeof(long) || underlying == typeof(int))
        {
            return Convert.ChangeType(1, underlying, CultureInfo.InvariantCulture);
        }

        if (underlying == typeof(JsonElement))
        {
            return JsonDocument.Parse("""{"fieldRef":{"fieldPath":"metadata.name"}}""").RootElement.Clone();
        }

        if (underlying == typeof(IReadOnlyDictionary<string, string>))
        {
            return new Dictionary<string, string> { ["k"] = "v" };
        }

        if (underlying == typeof(IReadOnlyDictionary<string, JsonElement>))
        {
            return new Dictionary<string, JsonElement> { ["resources"] = JsonDocument.Parse("""{"limits":{"cpu":"1"}}""").RootElement.Clone() };
        }

        if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
        {
            var item = underlying.GetGenericArguments()[0];
            var array = Array.CreateInstance(item, 1);
            array.SetValue(Filled(item, visited), 0);
            return array;
        }

        Assert.True(underlying.Namespace == typeof(PipelineSpec).Namespace && underlying.IsClass, $"no sample for {type}");
        visited.Add(underlying);
        var instance = Activator.CreateInstance(underlying)!;
        foreach (var property in underlying.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }))
        {
            property.SetValue(instance, Filled(property.PropertyType, visited));
        }

        return instance;
    }

    private static void SameFields(JsonNode json, V1JSONSchemaProps schema, string path, List<string> problems)
    {
        switch (json)
        {
            case JsonObject obj when schema.Properties is not null:
                var keys = obj.Select(p => p.Key).Where(k => !(k == "otherFields" && schema.XKubernetesPreserveUnknownFields == true)).ToHashSet(StringComparer.Ordinal);
                problems.AddRange(keys.Except(schema.Properties.Keys).Select(k => $"{Child(path, k)}: written by the model, not in the schema"));
                problems.AddRange(schema.Properties.Keys.Except(keys).Select(k => $"{Child(path, k)}: in the schema, not written by the model"));
                foreach (var key in keys.Intersect(schema.Properties.Keys))
                {
                    SameFields(obj[key]!, schema.Properties[key], Child(path, key), problems);
                }

                break;
            case JsonArray array when schema.Items is V1JSONSchemaProps items:
                SameFields(array[0]!, items, path + "[0]", problems);
                break;
        }
    }

    /// <summary>A document with every field of <paramref name="schema"/>; <paramref name="objects"/> gets each object with properties, by path.</summary>
    private static JsonNode? Sample(V1JSONSchemaProps schema, string path, Dictionary<string, V1JSONSchemaProps> objects)
    {
        switch (schema.Type)
        {
            case "object" when schema.Properties is not null:
                if (path != "status")
                {
                    objects[path] = schema;
                }

                var obj = new JsonObject();
                foreach (var (name, property) in schema.Properties)
                {
                    obj[name] = path == "status" ? null : Sample(property, Child(path, name), objects);
                }

                return obj;
            case "object" when schema.AdditionalProperties is not null:
                return new JsonObject { ["k"] = "v" };
            case "object":
                return new JsonObject();
            case "array":
                return new JsonArray(Sample((V1JSONSchemaProps)schema.Items, path + "[0]", objects));
            case "integer":
                return (long)(schema.Minimum ?? 1);
            case "boolean":
                return true;
            default:
                return (string?)schema.EnumProperty?.FirstOrDefault() ?? "a";
        }
    }

    /// <summary>The problems an API server would have with <paramref name="node"/> (types, required, enum, pattern, bounds), and fields it would prune.</summary>
    private static List<string> Check(JsonNode? node, V1JSONSchemaProps schema, string path = "")
    {
        var problems = new List<string>();
        CheckInto(node, schema, path, problems);
        return problems;
    }

    private static void CheckInto(JsonNode? node, V1JSONSchemaProps schema, string path, List<string> problems)
    {
        if (node is null)
        {
            return; // a null is pruned
        }

        var kind = node.GetValueKind();
        var ok = schema.Type switch
        {
            "object" => kind == JsonValueKind.Object,
            "array" => kind == JsonValueKind.Array,
            "string" => kind == JsonValueKind.String,
            "integer" => kind == JsonValueKind.Number && node.AsValue().TryGetValue<long>(out _),
            "boolean" => kind is JsonValueKind.True or JsonValueKind.False,
            _ => false,
        };
        if (!ok)
        {
            problems.Add($"{path}: must be {schema.Type}, not {kind}");
            return;
        }

        if (schema.EnumProperty is { } allowed && !allowed.Cast<object>().Select(a => a.ToString()).Contains(node.ToString(), StringComparer.Ordinal))
        {
            problems.Add($"{path}: '{node}' is not one of {string.Join(", ", allowed)}");
        }

        switch (node)
        {
            case JsonObject obj:
                foreach (var required in schema.Required ?? [])
                {
                    if (obj[required] is null)
                    {
                        problems.Add($"{Child(path, required)}: required");
                    }
                }

                foreach (var (name, value) in obj)
                {
                    if (schema.Properties?.TryGetValue(name, out var property) == true)
                    {
                        CheckInto(value, property, Child(path, name), problems);
                    }
                    else if (schema.AdditionalProperties is V1JSONSchemaProps values)
                    {
                        CheckInto(value, values, Child(path, name), problems);
                    }
                    else if (schema.XKubernetesPreserveUnknownFields != true && schema.Properties is not null)
                    {
                        problems.Add($"{Child(path, name)}: not in the schema (pruned)");
                    }
                }

                break;
            case JsonArray array:
                if (schema.MinItems is { } minItems && array.Count < minItems)
                {
                    problems.Add($"{path}: fewer than {minItems} items");
                }

                for (var i = 0; i < array.Count; i++)
                {
                    CheckInto(array[i], (V1JSONSchemaProps)schema.Items, $"{path}[{i}]", problems);
                }

                break;
            case JsonValue value when schema.Type == "string":
                var text = value.GetValue<string>();
                if (schema.MaxLength is { } maxLength && text.Length > maxLength)
                {
                    problems.Add($"{path}: longer than {maxLength}");
                }

                if (schema.Pattern is { } pattern && !Regex.IsMatch(text, pattern, RegexOptions.None, TimeSpan.FromSeconds(1)))
                {
                    problems.Add($"{path}: '{text}' does not match {pattern}");
                }

                break;
            case JsonValue value when schema.Type == "integer":
                var number = value.GetValue<long>();
                if (number < schema.Minimum || number > schema.Maximum)
                {
                    problems.Add($"{path}: {number} is not in {schema.Minimum}..{schema.Maximum}");
                }

                break;
        }
    }

    /// <summary>YAML as kubectl turns it into JSON: plain scalars typed (null, booleans, integers, numbers), quoted ones strings.</summary>
    private static JsonObject YamlAsJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return ToJson(stream.Documents[0].RootNode)!.AsObject();

        static JsonNode? ToJson(YamlNode node) => node switch
        {
            YamlMappingNode mapping => new JsonObject(mapping.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
            YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(ToJson)]),
            YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } plain => plain.Value switch
            {
                null or "" or "~" or "null" => null,
                "true" => true,
                "false" => false,
                var v when long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => l,
                var v when double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
                var v => v,
            },
            YamlScalarNode scalar => scalar.Value,
            _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType}"),
        };
    }

    private static string Child(string path, string name) => path.Length > 0 ? $"{path}.{name}" : name;

    private static (string Parent, string Name) Parent(string path) =>
        (path[..path.LastIndexOf('.')], path[(path.LastIndexOf('.') + 1)..]);

    /// <summary>The node at a path such as <c>spec.tasks[0].executor</c>.</summary>
    private static JsonNode? Locate(JsonNode root, string path)
    {
        var node = root;
        foreach (Match step in PathStep().Matches(path))
        {
            node = step.Groups[1].Success ? node![step.Groups[1].Value] : node![int.Parse(step.Groups[2].Value, CultureInfo.InvariantCulture)];
        }

        return node;
    }

    [GeneratedRegex(@"([A-Za-z][A-Za-z0-9_-]*)|\[(\d+)\]")]
    private static partial Regex PathStep();
}
