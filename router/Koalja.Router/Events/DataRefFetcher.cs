using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Koalja.Router.Events;

/// <summary>Why the content at a <c>dataref</c> could not be had.</summary>
internal sealed class DataRefException(string message) : Exception(message);

/// <summary>
/// Fetches the content a CloudEvent's <c>dataref</c> points at: http or https only (redirects too, followed here), the
/// whole fetch — connecting, the answer, and its body streamed into storage — within <see cref="Runtime.RuntimeOptions.DataRefTimeout"/>,
/// and only from public addresses or those <see cref="Runtime.RuntimeOptions.DataRefAllow"/> lists (<see cref="IsForbidden"/>),
/// checked on the address actually connected to, redirects included; no proxy is used, so that address is the server's.
/// A failure on the network (refused, a forbidden address, no such host, the timeout, an answer that is not 2xx, a body
/// that ends early) is told to the sender in one and the same words, so a dataref cannot scan the server's network;
/// the cause is logged.
/// </summary>
internal sealed class DataRefFetcher : IDisposable
{
    private const int MaxRedirects = 5;
    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;
    private readonly DataRefAllowList _allow;
    private readonly ILogger _log;

    public DataRefFetcher(Runtime.RuntimeOptions options, ILogger<DataRefFetcher> log)
    {
        ArgumentNullException.ThrowIfNull(options);
        _timeout = options.DataRefTimeout;
        _allow = DataRefAllowList.Parse(options.DataRefAllow);
        _log = log;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = ConnectAsync,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("koalja-dataref/" + (typeof(DataRefFetcher).Assembly.GetName().Version?.ToString(3) ?? "0"));
    }

    /// <summary>
    /// Fetches <paramref name="dataRef"/> and hands its body to <paramref name="consume"/> (which stores it), all within the
    /// time limit; returns what <paramref name="consume"/> made and the answer's media type.
    /// </summary>
    /// <exception cref="DataRefException">The reference is not fetchable, or the fetch failed.</exception>
    public async Task<(T Result, string? MediaType)> FetchAsync<T>(string dataRef, long maxBytes, Func<Stream, CancellationToken, Task<T>> consume,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(consume);
        if (!Uri.TryCreate(dataRef, UriKind.Absolute, out var uri) || !IsHttp(uri))
        {
            throw new DataRefException($"dataref '{Api.ApiSecurity.Printable(dataRef)}' is not an absolute http:// or https:// URL that Koalja can fetch");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        var token = deadline.Token;
        HttpResponseMessage? response = null;
        BodyStream? body = null;
        try
        {
            var current = uri;
            for (var redirects = 0; ; redirects++)
            {
                response = await _http.GetAsync(current, HttpCompletionOption.ResponseHeadersRead, token);
                if ((int)response.StatusCode is not (301 or 302 or 303 or 307 or 308) || response.Headers.Location is not { } location)
                {
                    break;
                }

                var next = location.IsAbsoluteUri ? location : new Uri(current, location);
                if (!IsHttp(next))
                {
                    throw new DataRefException($"dataref {uri} redirected to '{Api.ApiSecurity.Printable(next.OriginalString)}', which is not an http:// or https:// URL that Koalja can fetch");
                }

                if (redirects == MaxRedirects)
                {
                    throw Unfetchable(uri, $"more than {MaxRedirects} redirects");
                }

                response.Dispose();
                response = null;
                current = next;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw Unfetchable(uri, $"{current} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            if (response.Content.Headers.ContentLength > maxBytes)
            {
                throw new DataRefException($"dataref {uri} is {response.Content.Headers.ContentLength:N0} bytes, over the limit of {maxBytes:N0}");
            }

            body = new BodyStream(await response.Content.ReadAsStreamAsync(token), token);
            var result = await consume(body, token);
            return (result, response.Content.Headers.ContentType?.MediaType);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unfetchable(uri, $"not fetched and stored within {_timeout.TotalSeconds:0.###} s");
        }
        catch (HttpRequestException e)
        {
            throw Unfetchable(uri, e.Message);
        }
        catch (Exception e) when (body?.Failure is { } failure && e is not DataRefException)
        {
            throw Unfetchable(uri, "its body could not be read: " + failure.Message);
        }
        finally
        {
            if (body is not null)
            {
                await body.DisposeAsync();
            }

            response?.Dispose();
        }
    }

    public void Dispose() => _http.Dispose();

    private static bool IsHttp(Uri uri) => uri.Scheme is "http" or "https";

    /// <summary>The one answer for every failure on the network (the cause is logged, not told).</summary>
    private DataRefException Unfetchable(Uri uri, string cause)
    {
        // Without user info and query: a presigned URL's signature stays out of the log.
        _log.LogWarning("dataref {Url} could not be fetched: {Cause}",
            uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped), cause);
        return new DataRefException($"dataref {uri} could not be fetched: Koalja fetches a dataref only from a public address or one koalja up "
            + $"--dataref-allow names, and only a 2xx answer with all of its body within {_timeout.TotalSeconds:0.###} s");
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = addresses.Where(a => _allow.Allows(host, a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException($"{host} ({string.Join(", ", addresses.Select(a => a.ToString()))}) is not a public address, and --dataref-allow does not name it");
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
    /// Not fetched from unless <see cref="Runtime.RuntimeOptions.DataRefAllow"/> lists it: loopback (127/8, ::1), private
    /// (10/8, 172.16/12, 192.168/16), CGNAT (100.64/10, where Alibaba's metadata 100.100.100.200 is), "this network" (0/8),
    /// IETF protocol assignments (192.0.0/24, where Oracle's metadata 192.0.0.192 is), link-local (169.254/16, fe80::/10,
    /// where AWS, Azure and GCP answer), unique-local (fc00::/7, where AWS's fd00:ec2::254 is), site-local (fec0::/10),
    /// local-use NAT64 (64:ff9b:1::/48), multicast, reserved and the unspecified address — also written as an IPv4-mapped
    /// (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address.
    /// </summary>
    internal static bool IsForbidden(IPAddress address) => DataRefAllowList.InAny(address, DataRefAllowList.NotPublic);

    /// <summary>Never fetched from, whatever is allowed: nothing listens there (unspecified, multicast, broadcast).</summary>
    internal static bool IsNeverFetched(IPAddress address) => DataRefAllowList.InAny(address, DataRefAllowList.Unfetchable);

    /// <summary>
    /// The fetched body as the store reads it: every read within the fetch's time limit, and a read that fails (the
    /// connection lost, the body shorter than announced) remembered, so that it is told apart from the store's own failures.
    /// </summary>
    private sealed class BodyStream(Stream inner, CancellationToken deadline) : Stream
    {
        public Exception? Failure { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            using var linked = cancellationToken.CanBeCanceled && cancellationToken != deadline
                ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline) : null;
            try
            {
                return await inner.ReadAsync(buffer, linked?.Token ?? deadline);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Failure = e;
                throw;
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        // Synchronous reads go the same way, so that the time limit holds for them too.
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }
    }
}
