using System.Diagnostics;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Koalja.Functions.Host.Rpc;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Net.Http.Headers;

namespace Koalja.Functions.Host;

/// <summary>
/// An HTTP request as the worker takes it (an <see cref="InvocationRequest"/> whose trigger input is an RpcHttp) and
/// the RpcHttp a function answers as an HTTP response. The worker's rules: the url absolute, request headers in
/// <c>nullable_headers</c> only, the body as bytes, route values in <c>trigger_metadata</c>, a trace context always.
/// </summary>
internal static class HttpInvocations
{
    /// <summary>Response headers the front door sets itself.</summary>
    private static readonly HashSet<string> HopHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "Proxy-Connection", "Trailer", "TE",
    };

    public static InvocationRequest Request(HttpRequest request, ReadOnlyMemory<byte> body, RouteMatch.Found match, string invocationId)
    {
        var http = new RpcHttp
        {
            Method = request.Method,
            Url = request.GetEncodedUrl(),
            Body = new TypedData { Bytes = UnsafeByteOperations.UnsafeWrap(body) },
        };
        foreach (var (name, values) in request.Headers)
        {
            http.NullableHeaders[name] = new NullableString { Value = values.ToString() };
        }

        var invocation = new InvocationRequest
        {
            InvocationId = invocationId,
            FunctionId = match.Function.FunctionId,
            TraceContext = TraceContext(request.Headers),
        };
        foreach (var (name, value) in match.RouteValues)
        {
            http.NullableParams[name] = new NullableString { Value = value };
            invocation.TriggerMetadata[name] = new TypedData { String = value };
        }

        invocation.InputData.Add(new ParameterBinding { Name = match.Function.TriggerBinding, Data = new TypedData { Http = http } });
        return invocation;
    }

    /// <summary>The caller's W3C trace context (<c>traceparent</c>, <c>tracestate</c>) when it sent a valid one, else a fresh one.</summary>
    public static RpcTraceContext TraceContext(IHeaderDictionary headers)
    {
        var parent = headers["traceparent"].ToString();
        var state = headers["tracestate"].ToString();
        if (!ActivityContext.TryParse(parent, state, out _))
        {
            parent = $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01";
            state = "";
        }

        return new RpcTraceContext { TraceParent = parent, TraceState = state };
    }

    /// <summary>The RpcHttp a function answered with: its return value, or else an output binding holding one (a multi-output type's [HttpResult]).</summary>
    public static RpcHttp? ResponseOf(InvocationResponse response) =>
        response.ReturnValue?.Http ?? response.OutputData.Select(o => o.Data?.Http).FirstOrDefault(h => h is not null);

    /// <summary>Writes a function's RpcHttp as the response: status, headers (map 3; comma-joined values), cookies, body.</summary>
    /// <exception cref="FormatException">The status code is not a number from 100 to 599.</exception>
    public static async Task WriteAsync(HttpResponse response, RpcHttp http, CancellationToken cancellationToken)
    {
        var status = http.StatusCode is { Length: > 0 } code
            ? int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed is >= 100 and <= 599 ? parsed
                : throw new FormatException($"The function answered status code '{code}', which is not an HTTP status.")
            : StatusCodes.Status200OK;
        var body = http.Body?.DataCase switch
        {
            TypedData.DataOneofCase.Bytes => http.Body.Bytes.Memory,
            TypedData.DataOneofCase.String => Encoding.UTF8.GetBytes(http.Body.String),
            TypedData.DataOneofCase.Json => Encoding.UTF8.GetBytes(http.Body.Json),
            _ => ReadOnlyMemory<byte>.Empty,
        };
        response.StatusCode = status;
        foreach (var (name, value) in http.Headers)
        {
            if (!HopHeaders.Contains(name))
            {
                response.Headers[name] = value;
            }
        }

        foreach (var cookie in http.Cookies)
        {
            response.Headers.Append(HeaderNames.SetCookie, SetCookie(cookie));
        }

        response.ContentLength = body.Length;
        if (body.Length > 0)
        {
            await response.Body.WriteAsync(body, cancellationToken);
        }
    }

    private static string SetCookie(RpcHttpCookie cookie)
    {
        var header = new SetCookieHeaderValue(cookie.Name, cookie.Value)
        {
            Domain = cookie.Domain?.Value,
            Path = cookie.Path?.Value,
            Secure = cookie.Secure?.Value ?? false,
            HttpOnly = cookie.HttpOnly?.Value ?? false,
            SameSite = cookie.SameSite switch
            {
                RpcHttpCookie.Types.SameSite.Lax => Microsoft.Net.Http.Headers.SameSiteMode.Lax,
                RpcHttpCookie.Types.SameSite.Strict => Microsoft.Net.Http.Headers.SameSiteMode.Strict,
                RpcHttpCookie.Types.SameSite.ExplicitNone => Microsoft.Net.Http.Headers.SameSiteMode.None,
                _ => Microsoft.Net.Http.Headers.SameSiteMode.Unspecified,
            },
        };
        if (cookie.Expires?.Value is Timestamp expires)
        {
            header.Expires = expires.ToDateTimeOffset();
        }

        if (cookie.MaxAge is { DoubleCase: NullableDouble.DoubleOneofCase.Value } maxAge)
        {
            header.MaxAge = TimeSpan.FromSeconds(maxAge.Value);
        }

        return header.ToString();
    }
}
