namespace Koalja.Operator.Tests.Fake;

/// <summary>One request the fake API server answered, as it came (watches are recorded when their stream starts).</summary>
/// <param name="Method">The HTTP method (GET, POST, PUT, PATCH, DELETE).</param>
/// <param name="Verb">The Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection (empty for non-resource paths).</param>
/// <param name="Path">The URL path, e.g. <c>/apis/apps/v1/namespaces/ns/deployments/web</c>.</param>
/// <param name="Query">The raw query string without <c>?</c>.</param>
/// <param name="ContentType">The request's Content-Type header, if any.</param>
/// <param name="Body">The request body (empty when there was none).</param>
/// <param name="StatusCode">The HTTP status the fake answered with.</param>
public sealed record RecordedRequest(string Method, string Verb, string Path, string Query, string? ContentType, string Body, int StatusCode)
{
    /// <summary>One query parameter, decoded; null when absent.</summary>
    public string? QueryValue(string name)
    {
        foreach (var pair in Query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            if (key == name)
            {
                return eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
            }
        }

        return null;
    }
}
