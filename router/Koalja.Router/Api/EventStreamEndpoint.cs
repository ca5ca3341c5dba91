using System.Text;
using System.Threading.Channels;
using CloudNative.CloudEvents.SystemTextJson;
using Koalja.Router.Events;
using Koalja.Router.Registry;
using Koalja.Router.Runtime;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace Koalja.Router.Api;

/// <summary>
/// <c>GET /api/pipelines/{p}/events</c>: a live stream (server-sent events) of the pipeline's values as they are
/// recorded, each an <c>io.koalja.value</c> CloudEvent in structured JSON, with the value's sequence number as the SSE
/// id. A client that reconnects with <c>Last-Event-ID</c> (or asks <c>?after=N</c>; <c>after=0</c> is from the start)
/// first gets what it missed, from the registry. A client too slow to keep up is disconnected; it reconnects and
/// catches up the same way.
/// </summary>
internal static class EventStreamEndpoint
{
    private const int Buffered = 10_000;
    private const int Page = 500;
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);
    private static readonly JsonEventFormatter Formatter = new();

    public static async Task HandleAsync(HttpContext http, string p, string? task, long? after, PipelineRouter router, IHostApplicationLifetime lifetime)
    {
        if (!router.Pipelines.TryGetValue(p, out var runtime))
        {
            await Problems.NoPipeline(p, router).ExecuteAsync(http);
            return;
        }

        if (task is not null && runtime.Spec.TaskByName(task) is null)
        {
            await Problems.NotFound($"No task '{task}' in pipeline '{p}'", Core.Diagnostics.Suggestions.DidYouMean(task, runtime.Spec.Tasks.Select(t => t.Name))).ExecuteAsync(http);
            return;
        }

        if (long.TryParse(http.Request.Headers["Last-Event-ID"].ToString(), out var lastEventId))
        {
            after = lastEventId;
        }

        var channel = Channel.CreateBounded<ValueRecord>(new BoundedChannelOptions(Buffered) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
        var overflowed = false;
        void OnValue(ValueRecord v)
        {
            if (v.Pipeline == p && !v.Shadow && (task is null || v.Task == task) && !channel.Writer.TryWrite(v))
            {
                overflowed = true;
            }
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        router.ValueRecorded += OnValue;
        try
        {
            var response = http.Response;
            response.ContentType = "text/event-stream; charset=utf-8";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            var apiBase = new Uri($"{http.Request.Scheme}://{http.Request.Host}/");
            await response.WriteAsync($": live values of pipeline {p}\nretry: 2000\n\n", stop.Token);
            await response.Body.FlushAsync(stop.Token);
            var last = after ?? long.MaxValue;
            if (after is { } from)
            {
                last = await CatchUpAsync(http, router, runtime, task, from, apiBase, stop.Token);
            }

            while (!stop.IsCancellationRequested)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                wait.CancelAfter(Heartbeat);
                try
                {
                    await channel.Reader.WaitToReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    await response.WriteAsync(": keep-alive\n\n", stop.Token);
                    await response.Body.FlushAsync(stop.Token);
                    continue;
                }

                if (overflowed)
                {
                    await response.WriteAsync(": too slow to follow; reconnect with Last-Event-ID to catch up\n\n", stop.Token);
                    return;
                }

                while (channel.Reader.TryRead(out var value))
                {
                    if (last == long.MaxValue || value.Seq > last)
                    {
                        await WriteAsync(response, value, runtime.Namespace, apiBase, stop.Token);
                        last = value.Seq;
                    }
                }

                await response.Body.FlushAsync(stop.Token);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // the client left, or the server stops
        }
        finally
        {
            router.ValueRecorded -= OnValue;
        }
    }

    /// <summary>Sends the values recorded after <paramref name="after"/>; returns the last sequence number sent.</summary>
    private static async Task<long> CatchUpAsync(HttpContext http, PipelineRouter router, PipelineRuntime runtime, string? task, long after, Uri apiBase, CancellationToken cancellationToken)
    {
        var last = after;
        while (true)
        {
            List<ValueRecord> page;
            using (var connection = router.Registry.Open())
            {
                page = new RegistryReader(connection).Values(runtime.Name, task, null, last, Page);
            }

            foreach (var value in page)
            {
                await WriteAsync(http.Response, value, runtime.Namespace, apiBase, cancellationToken);
                last = value.Seq;
            }

            await http.Response.Body.FlushAsync(cancellationToken);
            if (page.Count < Page)
            {
                return last;
            }
        }
    }

    private static async Task WriteAsync(HttpResponse response, ValueRecord value, string @namespace, Uri apiBase, CancellationToken cancellationToken)
    {
        var json = Formatter.EncodeStructuredModeMessage(ValueRecordEvents.Create(value, @namespace, apiBase), out _);
        await response.WriteAsync($"id: {value.Seq}\nevent: {Core.Events.CloudEventAttributes.ValueEventType}\ndata: ", cancellationToken);
        await response.Body.WriteAsync(json, cancellationToken);
        await response.WriteAsync("\n\n", Encoding.UTF8, cancellationToken);
    }
}
