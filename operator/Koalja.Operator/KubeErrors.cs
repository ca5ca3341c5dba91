using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Autorest;

namespace Koalja.Operator;

/// <summary>What the API server said when it refused a request.</summary>
public static class KubeErrors
{
    /// <summary>The <c>message</c> of the Status body the API server answers with, else the body itself.</summary>
    public static string Message(HttpOperationException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        try
        {
            return JsonNode.Parse(e.Response.Content)?["message"]?.GetValue<string>() ?? e.Response.Content;
        }
        catch (Exception x) when (x is JsonException or InvalidOperationException)
        {
            return e.Response.Content;
        }
    }
}
