using System.Net;
using System.Text.Json.Serialization;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Koalja.Operator.Controller;

/// <summary>Any object, for its metadata only.</summary>
internal sealed class MetaObject : IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = "";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "";

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();
}

/// <summary>Any list, for its items' metadata and its resource version.</summary>
internal sealed class MetaList
{
    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public List<MetaObject> Items { get; set; } = [];
}

/// <summary>How to list and watch one kind of resource (a list returns its items and its resource version).</summary>
internal sealed record WatchSource(
    string Name,
    Func<CancellationToken, Task<(IReadOnlyList<V1ObjectMeta> Items, string ResourceVersion)>> List,
    Func<string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType Type, V1ObjectMeta Object)>> Watch);

/// <summary>
/// A resilient list/watch loop over one kind: lists, then watches from the list's resource version, keeps the last
/// version seen (bookmarks included) and resumes from it when a watch ends or breaks (back-off from 0.5 s doubling
/// to 30 s on errors); when the server says the version is too old (410 Gone, as an HTTP status or an ERROR event)
/// it lists again, and reports objects that disappeared meanwhile as deleted. Each change goes to
/// <paramref name="onChange"/> with the object's metadata.
/// </summary>
internal sealed class Informer(WatchSource source, Action<WatchEventType, V1ObjectMeta> onChange, ILogger logger, TimeProvider time)
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private readonly Dictionary<(string?, string), V1ObjectMeta> _known = [];
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lists done (the first, and one per 410 or failed resume).</summary>
    public int Lists { get; private set; }

    /// <summary>Watches started.</summary>
    public int Watches { get; private set; }

    /// <summary>Completes after the first list has been delivered.</summary>
    public Task Synced => _synced.Task;

    /// <summary>The objects seen, as last seen.</summary>
    public IReadOnlyList<V1ObjectMeta> Known()
    {
        lock (_lock)
        {
            return [.. _known.Values];
        }
    }

    public async Task RunAsync(CancellationToken ct)
    {
        string? version = null;
        var backoff = FirstBackoff;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (version is null)
                {
                    version = await RelistAsync(ct).ConfigureAwait(false);
                }

                var expired = false;
                Exception? broken = null;
                Watches++;
                await foreach (var (type, obj) in source.Watch(version, e =>
                {
                    if (e is KubernetesException { Status.Code: 410 })
                    {
                        expired = true;
                    }
                    else
                    {
                        broken ??= e;
                    }
                }, ct).ConfigureAwait(false))
                {
                    if (obj?.ResourceVersion is { Length: > 0 } rv)
                    {
                        version = rv;
                    }

                    if (type is WatchEventType.Bookmark or WatchEventType.Error || obj is null)
                    {
                        continue;
                    }

                    Deliver(type, obj);
                    backoff = FirstBackoff;
                }

                if (expired)
                {
                    OperatorLog.Expired(logger, source.Name, version);
                    version = null;
                    continue;
                }

                if (broken is not null)
                {
                    throw broken;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Gone)
            {
                version = null;
                continue;
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException or KubernetesException or TimeoutException
                or System.Text.Json.JsonException or OperationCanceledException)
            {
                var why = e is HttpOperationException { Response.StatusCode: HttpStatusCode.NotFound }
                    ? "the API server does not serve it: is its CRD installed? (kubectl apply -k infra/install)"
                    : e is HttpOperationException { Response.StatusCode: HttpStatusCode.Forbidden } forbidden ? "forbidden: " + KubeErrors.Message(forbidden)
                    : e.Message;
                OperatorLog.WatchFailed(logger, source.Name, why, backoff);
                try
                {
                    await Task.Delay(backoff, time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
            }
        }
    }

    private async Task<string> RelistAsync(CancellationToken ct)
    {
        var (items, version) = await source.List(ct).ConfigureAwait(false);
        Lists++;
        List<V1ObjectMeta> gone;
        lock (_lock)
        {
            var present = items.Select(Key).ToHashSet();
            gone = [.. _known.Where(k => !present.Contains(k.Key)).Select(k => k.Value)];
        }

        foreach (var meta in gone)
        {
            Deliver(WatchEventType.Deleted, meta);
        }

        foreach (var meta in items)
        {
            Deliver(WatchEventType.Added, meta);
        }

        _synced.TrySetResult();
        return version;
    }

    private void Deliver(WatchEventType type, V1ObjectMeta meta)
    {
        lock (_lock)
        {
            if (type == WatchEventType.Deleted)
            {
                _known.Remove(Key(meta));
            }
            else
            {
                _known[Key(meta)] = meta;
            }
        }

        onChange(type, meta);
    }

    private static (string?, string) Key(V1ObjectMeta meta) => (meta.NamespaceProperty, meta.Name);
}
