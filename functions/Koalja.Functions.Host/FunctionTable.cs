using System.Text.Json;
using Koalja.Functions.Host.Rpc;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;

namespace Koalja.Functions.Host;

/// <summary>
/// A worker's HTTP-triggered functions by route, read from the metadata the worker sent (each binding's JSON in
/// <c>raw_bindings</c>: <c>type</c> httpTrigger, <c>direction</c> In, <c>name</c>, <c>route</c>, <c>methods</c>).
/// A request path matches literal routes before parameterised ones, as ASP.NET Core orders them. Inline route
/// constraints (<c>{id:int}</c>) are not checked here; the worker's binding is.
/// </summary>
internal sealed class FunctionTable
{
    private readonly List<(HttpFunction Function, TemplateMatcher Matcher)> _routes;

    private FunctionTable(IEnumerable<HttpFunction> functions) =>
        _routes = functions
            .OrderBy(f => RoutePrecedence.ComputeInbound(f.Template))
            .Select(f => (f, new TemplateMatcher(f.Template, new RouteValueDictionary())))
            .ToList();

    public IEnumerable<HttpFunction> Functions => _routes.Select(r => r.Function);

    /// <summary>The table of the HTTP-triggered functions among <paramref name="functions"/>; other triggers are not routed.</summary>
    /// <exception cref="FormatException">A binding is not JSON or a route is not a route template (the message names the function).</exception>
    public static FunctionTable From(IEnumerable<RpcFunctionMetadata> functions) =>
        new(functions.Select(HttpFunctionOf).OfType<HttpFunction>());

    /// <summary>The function a request reaches: <paramref name="path"/> is what follows <c>api/</c>.</summary>
    public RouteMatch Match(string method, string path)
    {
        var allowed = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (function, matcher) in _routes)
        {
            var values = new RouteValueDictionary();
            if (!matcher.TryMatch(new PathString("/" + path.TrimStart('/')), values))
            {
                continue;
            }

            if (function.Allows(method))
            {
                return new RouteMatch.Found(function, values.Where(v => v.Value is not null)
                    .ToDictionary(v => v.Key, v => Convert.ToString(v.Value, System.Globalization.CultureInfo.InvariantCulture)!, StringComparer.OrdinalIgnoreCase));
            }

            if (function.Methods is { } methods)
            {
                allowed.UnionWith(methods);
            }
        }

        return allowed.Count > 0 ? new RouteMatch.MethodNotAllowed(allowed.Select(m => m.ToUpperInvariant()).ToList()) : new RouteMatch.NotFound();
    }

    private static HttpFunction? HttpFunctionOf(RpcFunctionMetadata metadata)
    {
        foreach (var raw in metadata.RawBindings)
        {
            try
            {
                using var binding = JsonDocument.Parse(raw);
                var root = binding.RootElement;
                if (!string.Equals(Text(root, "type"), "httpTrigger", StringComparison.OrdinalIgnoreCase)
                    || !string.Equals(Text(root, "direction"), "In", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var route = Text(root, "route") is { Length: > 0 } r ? r.Trim('/') : metadata.Name;
                var methods = root.TryGetProperty("methods", out var m) && m.ValueKind == JsonValueKind.Array && m.GetArrayLength() > 0
                    ? m.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToHashSet(StringComparer.OrdinalIgnoreCase)
                    : null;
                return new HttpFunction(metadata.FunctionId, metadata.Name, Text(root, "name") ?? "req", route, methods);
            }
            catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
            {
                throw new FormatException($"Function '{metadata.Name}': its binding {raw} cannot be read: {e.Message}", e);
            }
        }

        return null;
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

/// <summary>Where a request goes: a function (with the route's values), nowhere, or nowhere by that method.</summary>
internal abstract record RouteMatch
{
    public sealed record Found(HttpFunction Function, IReadOnlyDictionary<string, string> RouteValues) : RouteMatch;

    public sealed record NotFound : RouteMatch;

    public sealed record MethodNotAllowed(IReadOnlyList<string> Allowed) : RouteMatch;
}
