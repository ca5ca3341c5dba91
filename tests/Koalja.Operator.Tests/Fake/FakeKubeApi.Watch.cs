using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace Koalja.Operator.Tests.Fake;

// Watches: each open stream has a channel of event lines, fed under the store's lock as writes happen, and written
// out (newline-delimited JSON, chunked) by the request that opened it.
public sealed partial class FakeKubeApi
{
    private sealed class WatchStream(ResourceType type, string? ns, Selector selector)
    {
        public Channel<string> Lines { get; } = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });

        /// <summary>Set by <see cref="DropWatches"/>: the stream ends abruptly, whatever it had still to send.</summary>
        public bool IsDropped => Volatile.Read(ref _dropped);

        private bool _dropped;

        public void Drop()
        {
            Volatile.Write(ref _dropped, true);
            Lines.Writer.TryComplete();
        }

        /// <summary>Ends the stream as kube-apiserver ends one on shutdown: the events so far, then the end of the response.</summary>
        public void End() => Lines.Writer.TryComplete();

        public void Send(string type, string json) => Lines.Writer.TryWrite($"{{\"type\":\"{type}\",\"object\":{json}}}\n");

        /// <summary>
        /// Sends an event if it concerns this watch. With a selector, an object that starts matching arrives as
        /// ADDED and one that stops matching as DELETED, as kube-apiserver's watch cache does.
        /// </summary>
        public void Offer(StoredEvent e)
        {
            if (e.Key.Type != type || (ns is not null && e.Key.Namespace != ns))
            {
                return;
            }

            var now = selector.Matches(e.Object);
            var before = e.Previous is not null && selector.Matches(e.Previous);
            var sent = e.Type switch
            {
                "ADDED" => now ? "ADDED" : null,
                "DELETED" => now || before ? "DELETED" : null,
                _ => (before, now) switch
                {
                    (true, true) => "MODIFIED",
                    (false, true) => "ADDED",
                    (true, false) => "DELETED",
                    _ => null,
                },
            };
            if (sent is not null)
            {
                Send(sent, e.Json);
            }
        }
    }

    /// <summary>
    /// Opens a watch: from no resourceVersion or "0", ADDED for every current object first; from a version, the
    /// kept history after it; from a version older than the compacted history, only the 410 Expired ERROR event.
    /// </summary>
    private (WatchStream? Stream, string? Expired) StartWatch(ResourceType type, string? ns, Selector selector, string? resourceVersion)
    {
        lock (_lock)
        {
            var stream = new WatchStream(type, ns, selector);
            if (string.IsNullOrEmpty(resourceVersion) || resourceVersion == "0")
            {
                foreach (var obj in Matching(type, ns, selector))
                {
                    stream.Send("ADDED", obj.ToJsonString());
                }
            }
            else
            {
                if (!long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var from))
                {
                    throw KubeStatus.BadRequest($"resourceVersion: Invalid value: \"{resourceVersion}\": must be a number");
                }

                if (from < _compacted)
                {
                    var status = KubeStatus.Failure(410, "Expired", $"too old resource version: {from} ({_compacted})");
                    return (null, new JsonObject { ["type"] = "ERROR", ["object"] = status }.ToJsonString() + "\n");
                }

                foreach (var e in _history)
                {
                    if (e.Version > from)
                    {
                        stream.Offer(e);
                    }
                }
            }

            _watches.Add(stream);
            return (stream, null);
        }
    }

    private async Task WatchAsync(HttpContext http, Route route, RecordedRequest recorded)
    {
        var query = http.Request.Query;
        var selector = Selector.Parse(query["labelSelector"], query["fieldSelector"]);
        if (route.Name is not null)
        {
            selector = selector.And(Selector.Name(route.Name));
        }

        var (stream, expired) = StartWatch(route.Type, route.Namespace, selector, query["resourceVersion"]);
        Record(recorded with { StatusCode = 200 });
        var response = http.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        await response.StartAsync(http.RequestAborted);
        if (stream is null)
        {
            await response.WriteAsync(expired!, http.RequestAborted);
            return;
        }

        using var end = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        if (int.TryParse(query["timeoutSeconds"], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
        {
            end.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        try
        {
            await response.Body.FlushAsync(end.Token);
            var reader = stream.Lines.Reader;
            while (await reader.WaitToReadAsync(end.Token))
            {
                while (!stream.IsDropped && reader.TryRead(out var line))
                {
                    await response.WriteAsync(line, end.Token);
                }

                await response.Body.FlushAsync(end.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // timeoutSeconds passed, or the client went away
        }
        catch (IOException)
        {
            // the client went away
        }
        finally
        {
            lock (_lock)
            {
                _watches.Remove(stream);
            }
        }

        if (stream.IsDropped)
        {
            http.Abort();
        }
    }
}
