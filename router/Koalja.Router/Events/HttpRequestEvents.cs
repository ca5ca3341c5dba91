using Koalja.Core.Events;
using Microsoft.AspNetCore.Http;

namespace Koalja.Router.Events;

/// <summary>The CloudEvents HTTP binding (<see cref="CloudEventBinding"/>) over an ASP.NET Core request.</summary>
public static class HttpRequestEvents
{
    /// <summary>The content mode of the request, or null when it is not a CloudEvent.</summary>
    public static EventMode? EventMode(this HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CloudEventBinding.ModeOf(request.ContentType, request.Headers.ContainsKey(CloudEventBinding.HeaderPrefix + CloudEventAttributes.SpecVersion));
    }

    /// <summary>A binary-mode event's attributes from the request's headers (its data is the body, read by the caller).</summary>
    public static IncomingEvent ReadBinaryEvent(this HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var headers = request.Headers.Select(h => KeyValuePair.Create(h.Key, (IReadOnlyList<string>)h.Value.Select(v => v ?? "").ToList()));
        return CloudEventBinding.ReadBinary(headers, request.ContentType);
    }
}
