using System.Net;
using System.Net.Sockets;

namespace Koalja.Router.Events;

/// <summary>Why the content at a <c>dataref</c> could not be had.</summary>
internal sealed class DataRefException(string message) : Exception(message);

/// <summary>
/// Fetches the content a CloudEvent's <c>dataref</c> points at: http or https only, within a time limit, and never
/// from link-local, multicast or unspecified addresses (cloud metadata services live there), checked on the address
/// actually connected to, redirects included. The caller streams the body into storage with its size limit.
/// </summary>
internal sealed class DataRefFetcher : IDisposable
{
    private const int MaxRedirects = 5;
    private readonly HttpClient _http;

    public DataRefFetcher(TimeSpan timeout)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = true,
            MaxAutomaticRedirections = MaxRedirects,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = ConnectAsync,
        };
        _http = new HttpClient(handler) { Timeout = timeout };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("koalja-dataref/" + (typeof(DataRefFetcher).Assembly.GetName().Version?.ToString(3) ?? "0"));
    }

    /// <summary>The response whose body is the content (the caller disposes it), and its declared length if any.</summary>
    /// <exception cref="DataRefException">The reference is not fetchable, or the fetch failed.</exception>
    public async Task<HttpResponseMessage> GetAsync(string dataRef, long maxBytes, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(dataRef, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new DataRefException($"dataref '{Api.ApiSecurity.Printable(dataRef)}' is not an absolute http:// or https:// URL that Koalja can fetch");
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DataRefException($"dataref {uri} did not answer within {_http.Timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException e)
        {
            throw new DataRefException($"dataref {uri} could not be fetched: {e.Message}");
        }

        if (!response.IsSuccessStatusCode)
        {
            response.Dispose();
            throw new DataRefException($"dataref {uri} answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        if (response.Content.Headers.ContentLength > maxBytes)
        {
            response.Dispose();
            throw new DataRefException($"dataref {uri} is {response.Content.Headers.ContentLength:N0} bytes, over the limit of {maxBytes:N0}");
        }

        return response;
    }

    public void Dispose() => _http.Dispose();

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(context.DnsEndPoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken);
        var allowed = addresses.Where(a => !IsForbidden(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException($"{context.DnsEndPoint.Host} is a link-local, multicast or unspecified address, which Koalja does not fetch from");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    internal static bool IsForbidden(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.IsIPv6LinkLocal || address.IsIPv6Multicast)
        {
            return true;
        }

        var bytes = address.GetAddressBytes();
        return address.AddressFamily == AddressFamily.InterNetwork && (bytes[0] == 169 && bytes[1] == 254 || bytes[0] >= 224);
    }
}
