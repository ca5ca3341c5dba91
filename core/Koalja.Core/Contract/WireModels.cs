using System.Text.Json;
using System.Text.Json.Serialization;

namespace Koalja.Core.Contract;

/// <summary>The data of an <c>io.koalja.snapshot</c> event: everything one execution needs.</summary>
internal sealed record SnapshotData(
    string Pipeline,
    string Namespace,
    string Revision,
    string Task,
    string Snapshot,
    int Attempt,
    CodeData Code,
    IReadOnlyList<InputData> Inputs,
    IReadOnlyList<OutputData> Outputs,
    JsonElement Spec,
    string? PipelineDirectory = null);

/// <summary>The code an execution runs: a version, and for dropped code where its bytes are (by content hash) and how to run them.</summary>
internal sealed record CodeData(string Version, [property: JsonConverter(typeof(JsonStringEnumConverter<CodeKind>))] CodeKind? Kind = null,
    string? Uri = null, string? Sha256 = null, string? Entrypoint = null);

internal sealed record InputData(string Name, IReadOnlyList<InputValueData> Values);

/// <summary>One input value: id, content (<c>data</c> URI, sha256, size, media type) and where it came from.</summary>
internal sealed record InputValueData(string Id, string Data, string Sha256, long Size, string MediaType, ValueOrigin? Origin);

internal sealed record OutputData(string Name, string TypeRef);

/// <summary>The data of the <c>io.koalja.execution</c> event that ends a successful answer.</summary>
internal sealed record ExecutionData(DateTimeOffset StartedAt, DateTimeOffset FinishedAt, int? ExitCode, string? Log, int Values, string? Worker = null,
    Dictionary<string, string>? Environment = null);

/// <summary>A failed execution's answer (<c>application/problem+json</c>, RFC 9457, with Koalja's members).</summary>
internal sealed record ExecutionProblem(
    string Type, string Title, int Status, string? Detail, int? ExitCode, string? StderrTail, string? Log, DateTimeOffset StartedAt, DateTimeOffset FinishedAt,
    string? Worker = null, bool? Permanent = null, Dictionary<string, string>? Environment = null, bool? Exhausted = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SnapshotData))]
[JsonSerializable(typeof(ExecutionData))]
[JsonSerializable(typeof(ExecutionProblem))]
internal sealed partial class WireJsonContext : JsonSerializerContext;
