using System.Text.Json;
using System.Text.Json.Serialization;

namespace Koalja.Core.Policies;

/// <summary>The persisted form of <see cref="AssemblerState"/>: JSON, camelCase, source-generated.</summary>
public static partial class AssemblerStateJson
{
    public static string Serialize(AssemblerState state) => JsonSerializer.Serialize(state, Context.Default.AssemblerState);

    public static AssemblerState Deserialize(string json) =>
        JsonSerializer.Deserialize(json, Context.Default.AssemblerState)
        ?? throw new JsonException("The assembler state is null.");

    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
    [JsonSerializable(typeof(AssemblerState))]
    private sealed partial class Context : JsonSerializerContext;
}
