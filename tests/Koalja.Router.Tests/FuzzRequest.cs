using System.Text;

namespace Koalja.Router.Tests;

/// <summary>One request the HTTP fuzzer sends: everything needed to send it again by hand (<see cref="OnRoute"/>: its path is one of <see cref="Route"/>'s).</summary>
internal sealed record FuzzRequest(int Index, string Route, bool OnRoute, string Method, string PathAndQuery, IReadOnlyList<(string Name, string Value)> Headers, string? ContentType, byte[]? Body)
{
    public HttpRequestMessage ToMessage(Uri server)
    {
        // joined as text: a path such as //extra, resolved against the server, would name another host
        var uri = new Uri(server.GetLeftPart(UriPartial.Authority) + PathAndQuery);
        if (uri.Authority != server.Authority)
        {
            throw new UriFormatException($"{PathAndQuery} leaves the server");
        }

        var message = new HttpRequestMessage(new HttpMethod(Method), uri);
        foreach (var (name, value) in Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        if (Body is not null || ContentType is not null)
        {
            message.Content = new ByteArrayContent(Body ?? []);
            if (ContentType is not null)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
            }
        }

        return message;
    }

    /// <summary>The request as text: method, path, headers (control characters escaped) and the start of the body in hex and as escaped text.</summary>
    public string Describe()
    {
        var text = new StringBuilder($"#{Index} {Method} {PathAndQuery}");
        foreach (var (name, value) in Headers)
        {
            text.Append($"\n    {name}: {Escape(value, 300)}");
        }

        if (ContentType is not null)
        {
            text.Append($"\n    Content-Type: {Escape(ContentType, 300)}");
        }

        if (Body is { } body)
        {
            var head = body.AsSpan(0, Math.Min(body.Length, 96));
            text.Append($"\n    body ({body.Length} bytes) hex: {Convert.ToHexStringLower(head)}{(body.Length > head.Length ? "…" : "")}");
            text.Append($"\n    body text: {Escape(Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 300)), 300)}");
        }

        return text.ToString();
    }

    internal static string Escape(string value, int limit)
    {
        var text = new StringBuilder();
        foreach (var c in value.Take(limit))
        {
            text.Append(c is < ' ' or '\u007f' or '\\' ? $"\\x{(int)c:x2}" : c.ToString());
        }

        return value.Length > limit ? text.Append($"…({value.Length} chars)").ToString() : text.ToString();
    }
}
