using System.Text.Json.Serialization;
using Koalja.Cli.Commands;
using Microsoft.AspNetCore.Mvc;

namespace Koalja.Cli;

/// <summary>
/// The CLI's own JSON: the <c>validate --format json</c> report, and the problem+json of a refused request.
/// Answers of the HTTP API are read with the router's <see cref="Router.Api.ApiJsonContext"/>, into the API's own types.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<ValidationReport>))]
[JsonSerializable(typeof(ProblemDetails))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
