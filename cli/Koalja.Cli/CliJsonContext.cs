using System.Text.Json.Serialization;
using Koalja.Cli.Commands;

namespace Koalja.Cli;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<ValidationReport>))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
