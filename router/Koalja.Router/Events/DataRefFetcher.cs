using System.Net;
using System.Net.Sockets;

namespace Koalja.Router.Events;

/// <summary>Why the content at a <c>dataref</c> could not be had.</summary>
internal sealed class DataRefException(string message) : Exception(message);

/// <summary>
/// Fetches the content a CloudEvent's <c>dataref</c> points at: http or https only, within a time limit, and never
/// from cloud metadata services and their kin (<see cref="IsForbidden"/>), checked on the address actually connected
/// to, redirects included. The caller streams the body into storage with its size limit.
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
            throw new HttpRequestException($"{context.DnsEndPoint.Host} is a cloud metadata, link-local, multicast or unspecified address, which Koalja does not fetch from");
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

    /// <summary>
    /// Cloud metadata and other host-internal services: link-local (169.254/16, fe80::/10, where AWS, Azure and GCP
    /// answer), AWS's IPv6 endpoint fd00:ec2::254, Alibaba's 100.100.100.200, Oracle's 192.0.0.192, multicast, the
    /// unspecified address — also written as an IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) or NAT64
    /// (64:ff9b::a.b.c.d) IPv6 address.
    /// </summary>
    internal static bool IsForbidden(IPAddress address)
    {
        if (address.Equals(IPAddress.IPv6Any) || address.IsIPv6LinkLocal || address.IsIPv6Multicast || address.Equals(AwsMetadataV6))
        {
            return true;
        }

        if (EmbeddedIPv4(address) is { } v4)
        {
            address = v4;
        }

        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return false;
        }

        var b = address.GetAddressBytes();
        return b is [0, 0, 0, 0] or [169, 254, _, _] or [100, 100, 100, 200] or [192, 0, 0, 192] || b[0] >= 224;
    }

    private static readonly IPAddress AwsMetadataV6 = IPAddress.Parse("fd00:ec2::254");

    /// <summary>The IPv4 address an IPv6 one carries: mapped (::ffff:0:0/96), compatible (::/96, not :: or ::1) or NAT64 (64:ff9b::/96).</summary>
    private static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        var b = address.GetAddressBytes();
        var nat64 = b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0;
        var compatible = b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 && !(b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1);
        return nat64 || compatible ? new IPAddress(b.AsSpan(12, 4)) : null;
    }
}
