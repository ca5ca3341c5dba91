using Microsoft.AspNetCore.Routing.Template;

namespace Koalja.Functions.Host;

/// <summary>
/// An HTTP-triggered function of a worker: its id, name, the trigger binding's name (the parameter the request is
/// bound to), its route (relative to <c>api/</c>; the function name when the binding gives none) and methods
/// (null: any).
/// </summary>
internal sealed record HttpFunction(string FunctionId, string Name, string TriggerBinding, string Route, IReadOnlySet<string>? Methods)
{
    public RouteTemplate Template { get; } = TemplateParser.Parse(Route);

    public bool Allows(string method) => Methods is null || Methods.Contains(method);
}
