using Koalja.Core.Contract;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.Http;
using CloudNative.CloudEvents.SystemTextJson;
using Koalja.Core.Spec;
using Koalja.Storage;
using Koalja.Core.Events;

namespace Koalja.Tasks;

/// <summary>
/// Built-in <c>CloudEventSink</c>: POSTs each input value, in order, to the task's <c>url</c> as an
/// <c>io.koalja.value</c> event (binary or structured mode) with <c>dataref</c>, <c>causationid</c> and the value's
/// provenance; content up to 64 KiB travels in the event too. A refused or failed delivery is tried again (with
/// backoff) within the execution when it may pass later (network errors, 408, 429, 5xx); then the execution fails,
/// and the dispatcher retries it and dead-letters it like any task. Receivers see (source, id) once per value,
/// so they can ignore repeats.
/// </summary>
internal sealed class CloudEventSinkRunner(IArtifactStore store, HttpClient http, TaskRuntimeOptions options, TimeProvider time) : ITaskRunner
{
    private static readonly JsonEventFormatter Formatter = new();

    public async Task<TaskOutcome> RunAsync(TaskInvocation invocation, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        var task = invocation.TaskSpec;
        var sink = CloudEventSinkOptions.Of(task);
        var log = new StringBuilder();
        string? error = null;
        foreach (var value in invocation.Inputs.SelectMany(i => i.Values))
        {
            error = await DeliverAsync(invocation, sink, value, log, cancellationToken);
            if (error is not null)
            {
                break;
            }
        }

        var logBytes = Encoding.UTF8.GetBytes(log.ToString());
        using var logStream = new MemoryStream(logBytes);
        var stored = await store.PutAsync(logStream, cancellationToken: cancellationToken);
        return new TaskOutcome(error is null, [], started, time.GetUtcNow(), Error: error, StderrTail: error is null ? null : Tail(log.ToString()), LogSha256: stored.Sha256);
    }

    /// <summary>Delivers one value; returns why it could not be delivered, or null.</summary>
    private async Task<string?> DeliverAsync(TaskInvocation invocation, CloudEventSinkOptions sink, InvocationValue value, StringBuilder log, CancellationToken cancellationToken)
    {
        var origin = value.Origin ?? new ValueOrigin(invocation.Task, "", 0, time.GetUtcNow(), invocation.Revision, null, null);
        var data = new ValueEventData(invocation.Namespace, invocation.Pipeline, origin.Task, origin.Output, origin.Index, value.ValueId, value.Sha256, value.Size,
            value.MediaType, origin.CreatedAt, origin.Revision, origin.CodeVersion, origin.SnapshotId);
        var dataRef = options.ContentUrl?.Invoke(value.ValueId)?.ToString() ?? ArtifactUri.For(value.Sha256);
        var evt = ValueEvents.Create(data, dataRef, value.Size <= ValueEvents.MaxInlineBytes ? await ReadAllAsync(value.Sha256, cancellationToken) : null);
        var mode = sink.Mode == CloudEventSinkMode.Structured ? ContentMode.Structured : ContentMode.Binary;
        for (var attempt = 1; ; attempt++)
        {
            var watch = Stopwatch.StartNew();
            string outcome;
            bool transient;
            TimeSpan? retryAfter = null;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, sink.Url) { Content = evt.ToHttpContent(mode, Formatter) };
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    Log(log, $"value {value.ValueId} delivered to {sink.Url} ({mode.ToString().ToLowerInvariant()}): {(int)response.StatusCode} {response.ReasonPhrase} in {watch.ElapsedMilliseconds} ms");
                    return null;
                }

                outcome = $"{(int)response.StatusCode} {response.ReasonPhrase}";
                transient = response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500;
                retryAfter = response.Headers.RetryAfter?.Delta;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                outcome = e is TaskCanceledException ? "no answer in time" : e.Message;
                transient = true;
            }

            Log(log, $"value {value.ValueId} to {sink.Url}, try {attempt}: {outcome} after {watch.ElapsedMilliseconds} ms");
            if (!transient || attempt >= options.SinkTries)
            {
                return $"Delivering value {value.ValueId} to {sink.Url} failed: {outcome}";
            }

            var delay = TimeSpan.FromTicks(options.SinkRetryDelay.Ticks << (attempt - 1));
            await System.Threading.Tasks.Task.Delay(retryAfter is { } wait && wait < TimeSpan.FromSeconds(10) && wait > delay ? wait : delay, time, cancellationToken);
        }
    }

    private async Task<byte[]> ReadAllAsync(string sha256, CancellationToken cancellationToken)
    {
        await using var stream = await store.OpenReadAsync(sha256, cancellationToken);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    private void Log(StringBuilder log, string line) =>
        log.Append(time.GetUtcNow().ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)).Append(' ').AppendLine(line);

    private static string Tail(string text) => text.Length <= 2048 ? text.TrimEnd() : text[^2048..].TrimEnd();
}
