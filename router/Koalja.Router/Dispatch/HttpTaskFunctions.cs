using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Koalja.Core.Contract;
using Koalja.Tasks;
using Microsoft.Extensions.Logging;

namespace Koalja.Router.Dispatch;

/// <summary>Settings of the HTTP dispatcher (the cluster transport, and <c>koalja up --task-host functions</c>).</summary>
public sealed record HttpDispatchOptions
{
    /// <summary>Where a task's function app listens (its base URL; the snapshot goes to <c>api/snapshot</c> under it).</summary>
    public required Func<string, string, Uri> FunctionUrl { get; init; }

    /// <summary>A snapshot without an answer in this time counts as a failed attempt (the function enforces the command timeout itself; this is a margin above it).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(11);

    /// <summary>
    /// How long a task function may be unreachable (connection refused, 429, 502, 503, 504: scaled to zero, starting,
    /// restarting, throttling) before the attempt counts as failed. Meanwhile the snapshot waits, with back-off.
    /// </summary>
    public TimeSpan UnavailableTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>First wait after an unavailable answer; it doubles up to <see cref="MaxBackoff"/> (a <c>Retry-After</c> is honoured within that).</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Snapshots in flight to one task function at a time; more wait here, not in the function's queue.</summary>
    public int MaxInFlightPerTask { get; init; } = 16;

    /// <summary>The function key (<c>x-functions-key</c>) the Functions host asks for; none locally.</summary>
    public string? FunctionKey { get; init; }

    /// <summary>
    /// Resolves a task function's host name to its replicas (a headless Service's name gives one address per ready pod;
    /// <see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/> does). When set, each snapshot goes straight to
    /// the replica with the fewest snapshots in flight from this router, so the router knows which replica runs which
    /// snapshot (for scale-in safety: docs/scaling.md); no address is "unavailable" (scaled to zero, starting), and the
    /// snapshot waits. Null: to the URL as it is (a Service's virtual address, or one local worker).
    /// </summary>
    public Func<string, CancellationToken, Task<IPAddress[]>>? ResolveReplicas { get; init; }

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Timeout <= TimeSpan.Zero)
        {
            problems.Add($"Timeout must be more than zero; it is {Timeout}");
        }

        if (UnavailableTimeout < TimeSpan.Zero)
        {
            problems.Add($"UnavailableTimeout must not be negative; it is {UnavailableTimeout}");
        }

        if (Backoff <= TimeSpan.Zero || MaxBackoff < Backoff)
        {
            problems.Add($"Backoff must be more than zero and at most MaxBackoff; they are {Backoff} and {MaxBackoff}");
        }

        if (MaxInFlightPerTask < 1)
        {
            problems.Add($"MaxInFlightPerTask must be at least 1; it is {MaxInFlightPerTask}");
        }

        return problems;
    }
}

/// <summary>A snapshot being sent to (or run by) one replica of its task function, since when.</summary>
public sealed record ReplicaRun(string Replica, string Snapshot, DateTimeOffset Since);

/// <summary>A task runner that knows which replica of a task runs which snapshot.</summary>
public interface IReplicaView
{
    /// <summary>The task's snapshots in flight, each with its replica.</summary>
    IReadOnlyList<ReplicaRun> Running(string pipeline, string task);
}

/// <summary>
/// Sends each snapshot to its task's function over HTTP: a structured-mode <c>io.koalja.snapshot</c> event POSTed to
/// <c>{function}/api/snapshot</c>, whose answer (a batch, or a problem) is the outcome. A function that cannot take it
/// now (refused connection, 429, 502–504, the connection lost before an answer) is tried again with back-off until
/// <see cref="HttpDispatchOptions.UnavailableTimeout"/>, so a task scaled to zero or a worker being replaced loses
/// no snapshot and spends no attempt; anything else is the attempt's outcome and the router decides on a retry.
/// It owns <paramref name="http"/> and disposes it.
/// </summary>
public sealed partial class HttpTaskFunctions(HttpClient http, HttpDispatchOptions options, TimeProvider time, ILogger<HttpTaskFunctions> log) : ITaskRunner, IReplicaView, IDisposable
{
    private const int ExcerptBytes = 512;
    private readonly ConcurrentDictionary<(string Pipeline, string Task), SemaphoreSlim> _inFlight = new();
    private readonly ConcurrentDictionary<(string Pipeline, string Task), ConcurrentDictionary<string, ReplicaRun>> _running = new();
    private int _turn;

    /// <inheritdoc/>
    public IReadOnlyList<ReplicaRun> Running(string pipeline, string task) =>
        _running.TryGetValue((pipeline, task), out var runs) ? [.. runs.Values] : [];

    public async Task<TaskOutcome> RunAsync(TaskInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var gate = _inFlight.GetOrAdd((invocation.Pipeline, invocation.Task), _ => new SemaphoreSlim(options.MaxInFlightPerTask));
        await gate.WaitAsync(cancellationToken);
        try
        {
            return await SendAsync(invocation, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<TaskOutcome> SendAsync(TaskInvocation invocation, CancellationToken cancellationToken)
    {
        var url = new Uri(options.FunctionUrl(invocation.Pipeline, invocation.Task), "api/snapshot");
        var traceParent = Activity.Current?.Id is { } id && id.StartsWith("00-", StringComparison.Ordinal) ? id : NewTraceParent();
        var message = SnapshotEvents.Encode(invocation, traceParent);
        var started = time.GetUtcNow();
        var deadline = started + options.UnavailableTimeout;
        var runs = _running.GetOrAdd((invocation.Pipeline, invocation.Task), _ => new(StringComparer.Ordinal));
        try
        {
            for (var tries = 1; ; tries++)
            {
                var (target, replica, noReplica) = await ChooseReplicaAsync(url, runs, cancellationToken);
                TaskOutcome? outcome = null;
                string? unavailable = noReplica;
                TimeSpan? retryAfter = null;
                if (target is not null)
                {
                    runs[invocation.SnapshotId] = new ReplicaRun(replica!, invocation.SnapshotId, time.GetUtcNow());
                    (outcome, unavailable, retryAfter) = await TryAsync(target, url, message, traceParent, cancellationToken);
                }

                if (outcome is not null)
                {
                    return outcome;
                }

                runs.TryRemove(invocation.SnapshotId, out _);

                var now = time.GetUtcNow();
                if (now >= deadline)
                {
                    return new TaskOutcome(false, [], started, now,
                        Error: $"the task function at {url} was unavailable for {options.UnavailableTimeout} ({tries} tries): {unavailable}");
                }

                var backoff = TimeSpan.FromTicks(Math.Min(options.MaxBackoff.Ticks, options.Backoff.Ticks * (1L << Math.Min(20, tries - 1))));
                var wait = retryAfter is { } after && after > backoff ? TimeSpan.FromTicks(Math.Min(after.Ticks, options.MaxBackoff.Ticks)) : backoff;
                LogUnavailable(invocation.Pipeline, invocation.Task, invocation.SnapshotId, url, unavailable!, wait);
                await Task.Delay(wait, time, cancellationToken);
            }
        }
        finally
        {
            runs.TryRemove(invocation.SnapshotId, out _);
        }
    }

    /// <summary>
    /// Where to send: the URL itself (no resolver: the replica is its authority), or the resolved replica with the fewest
    /// snapshots in flight from here (ties taken in turn); or why there is none now.
    /// </summary>
    private async Task<(Uri? Target, string? Replica, string? Unavailable)> ChooseReplicaAsync(Uri url, ConcurrentDictionary<string, ReplicaRun> runs, CancellationToken cancellationToken)
    {
        if (options.ResolveReplicas is not { } resolve)
        {
            return (url, url.Authority, null);
        }

        IPAddress[] addresses;
        try
        {
            addresses = await resolve(url.Host, cancellationToken);
        }
        catch (SocketException e)
        {
            return (null, null, $"no replica of the task function is ready ({url.Host} does not resolve: {e.Message})");
        }

        if (addresses.Length == 0)
        {
            return (null, null, $"no replica of the task function is ready ({url.Host} has no address)");
        }

        var load = runs.Values.GroupBy(r => r.Replica, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var names = addresses.Select(a => a.ToString()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var least = names.Min(n => load.GetValueOrDefault(n));
        var candidates = names.Where(n => load.GetValueOrDefault(n) == least).ToList();
        var chosen = candidates[(int)((uint)Interlocked.Increment(ref _turn) % (uint)candidates.Count)];
        var host = IPAddress.Parse(chosen).AddressFamily == AddressFamily.InterNetworkV6 ? $"[{chosen}]" : chosen;
        return (new UriBuilder(url) { Host = host }.Uri, chosen, null);
    }

    /// <summary>One POST: the outcome, or why the function could not take the snapshot now (and when to come back).</summary>
    private async Task<(TaskOutcome? Outcome, string? Unavailable, TimeSpan? RetryAfter)> TryAsync(Uri target, Uri url, ContractMessage message, string traceParent, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ReadOnlyMemoryContent(message.Body) };
        if (target != url)
        {
            request.Headers.Host = url.Authority; // sent to one replica's address, for the function's own name
        }

        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(message.ContentType);
        request.Headers.TryAddWithoutValidation("traceparent", traceParent);
        if (options.FunctionKey is { } key)
        {
            request.Headers.TryAddWithoutValidation("x-functions-key", key);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        var started = time.GetUtcNow();
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException || e.HttpRequestError is HttpRequestError.ConnectionError)
        {
            return (null, $"cannot connect: {e.Message}", null);
        }
        catch (HttpRequestException e) when (e.HttpRequestError is HttpRequestError.ResponseEnded)
        {
            return (null, $"the connection closed before an answer: {e.Message}", null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (Failed(started, $"no answer from the task function at {url} in {options.Timeout}"), null, null);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (status is 429 or 502 or 503 or 504)
            {
                var retryAfter = response.Headers.RetryAfter is { } ra
                    ? ra.Delta ?? (ra.Date is { } date ? date - time.GetUtcNow() : null)
                    : null;
                return (null, $"HTTP {status} {response.ReasonPhrase}: {await ExcerptAsync(response, timeout.Token)}", retryAfter);
            }

            try
            {
                return (await ExecutionAnswers.ReadAsync(response, timeout.Token), null, null);
            }
            catch (FormatException e)
            {
                return (Failed(started, $"the task function at {url} answered HTTP {status} that is not the task contract ({e.Message})"), null, null);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return (Failed(started, $"the answer of the task function at {url} did not arrive in {options.Timeout}"), null, null);
            }
        }
    }

    public void Dispose()
    {
        http.Dispose();
        foreach (var gate in _inFlight.Values)
        {
            gate.Dispose();
        }
    }

    private TaskOutcome Failed(DateTimeOffset started, string error) => new(false, [], started, time.GetUtcNow(), Error: error);

    private static async Task<string> ExcerptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[ExcerptBytes];
            var read = await stream.ReadAtLeastAsync(buffer, ExcerptBytes, throwOnEndOfStream: false, cancellationToken);
            return System.Text.Encoding.UTF8.GetString(buffer, 0, read);
        }
        catch (HttpRequestException e)
        {
            return $"(the body could not be read: {e.Message})";
        }
    }

    private static string NewTraceParent() => $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01";

    [LoggerMessage(Level = LogLevel.Information, Message = "{Pipeline}/{Task}: the task function at {Url} cannot take snapshot {SnapshotId} now ({Reason}); trying again in {Wait}")]
    private partial void LogUnavailable(string pipeline, string task, string snapshotId, Uri url, string reason, TimeSpan wait);
}
