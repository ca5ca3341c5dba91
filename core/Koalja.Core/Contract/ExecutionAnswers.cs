using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Koalja.Core.Events;
using A = Koalja.Core.Events.CloudEventAttributes;

namespace Koalja.Core.Contract;

/// <summary>
/// The task function → router contract. A successful execution answers <c>application/cloudevents-batch+json</c>:
/// one <c>io.koalja.value</c> event per produced value (<c>dataref</c> = its <c>sha256:</c> URI, <c>causationid</c> =
/// the snapshot id, <c>koaljaoutput</c> and <c>koaljaindex</c>), then one <c>io.koalja.execution</c> event with the
/// execution's times, exit code and log. A failed one answers <c>application/problem+json</c> with the exit code,
/// the end of stderr and the log URI.
/// </summary>
public static class ExecutionAnswers
{
    public const string ProblemMediaType = "application/problem+json";
    public const string FailedProblemType = "https://koalja.dev/problems/execution-failed";
    public const string RefusedProblemType = "https://koalja.dev/problems/snapshot-refused";
    public const string FaultProblemType = "https://koalja.dev/problems/task-function-fault";

    private static readonly JsonEventFormatter Formatter = new();

    /// <summary>The events of a successful execution's answer.</summary>
    public static IReadOnlyList<CloudEvent> Batch(TaskInvocation invocation, TaskOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        ArgumentNullException.ThrowIfNull(outcome);
        var source = new Uri(ValueEvents.SourceOf(invocation.Namespace, invocation.Pipeline, invocation.Task), UriKind.Relative);
        var events = outcome.Outputs.Select(v =>
        {
            var evt = ValueEvents.Create(new ValueEventData(invocation.Namespace, invocation.Pipeline, invocation.Task, v.Output, v.Index,
                $"{invocation.SnapshotId}/{invocation.Attempt}/{v.Output}/{v.Index}", v.Sha256, v.Size, v.MediaType, outcome.FinishedAt,
                invocation.Revision, invocation.CodeVersion, invocation.SnapshotId), ArtifactUri.For(v.Sha256));
            evt[ValueEvents.Attempt] = invocation.Attempt;
            return evt;
        }).ToList();
        var execution = new CloudEvent(CloudEventsSpecVersion.V1_0, ValueEvents.Extensions)
        {
            Id = $"{invocation.SnapshotId}/{invocation.Attempt}",
            Source = source,
            Type = A.ExecutionEventType,
            Time = outcome.FinishedAt,
            DataContentType = "application/json",
            Data = JsonSerializer.SerializeToElement(new ExecutionData(outcome.StartedAt, outcome.FinishedAt, outcome.ExitCode,
                outcome.LogSha256 is { } log ? ArtifactUri.For(log) : null, outcome.Outputs.Count, outcome.Worker, Wire(outcome.Environment)), WireJsonContext.Default.ExecutionData),
        };
        execution[ValueEvents.CausationId] = invocation.SnapshotId;
        execution[ValueEvents.Attempt] = invocation.Attempt;
        events.Add(execution);
        return events;
    }

    /// <summary>The answer to a snapshot: the batch of a successful execution (200), or the problem of a failed one (422).</summary>
    public static ContractMessage Answer(TaskInvocation invocation, TaskOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Succeeded)
        {
            var body = Formatter.EncodeBatchModeMessage(Batch(invocation, outcome), out var contentType);
            return new ContractMessage(contentType.ToString(), body);
        }

        var problem = new ExecutionProblem(FailedProblemType, $"Task '{invocation.Task}' failed", (int)HttpStatusCode.UnprocessableEntity, outcome.Error,
            outcome.ExitCode, outcome.StderrTail, outcome.LogSha256 is { } log ? ArtifactUri.For(log) : null, outcome.StartedAt, outcome.FinishedAt, outcome.Worker,
            outcome.Permanent ? true : null, Wire(outcome.Environment), outcome.Exhausted ? true : null);
        return Problem(problem);
    }

    /// <summary>The answer to a message that is not a snapshot this task function can run (400): nothing ran.</summary>
    public static ContractMessage Refusal(string detail, DateTimeOffset now) =>
        Problem(new ExecutionProblem(RefusedProblemType, "The snapshot event was refused", (int)HttpStatusCode.BadRequest, detail, null, null, null, now, now));

    /// <summary>
    /// The answer of a task function that broke before it could answer (500): whether the execution ran is unknown, so
    /// the router treats it as a failed attempt and retries it.
    /// </summary>
    public static ContractMessage Fault(string detail, DateTimeOffset now) =>
        Problem(new ExecutionProblem(FaultProblemType, "The task function failed", (int)HttpStatusCode.InternalServerError, detail, null, null, null, now, now));

    /// <summary>The outcome an answer tells: the values of a batch, or the failure of a problem.</summary>
    /// <exception cref="FormatException">The answer is neither a well-formed batch nor a problem.</exception>
    public static TaskOutcome Read(ContractMessage answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var contentType = MediaTypeHeaderValue.TryParse(answer.ContentType, out var parsed) ? parsed : null;
        if (contentType?.MediaType == ProblemMediaType)
        {
            var problem = Parse(() => JsonSerializer.Deserialize(answer.Body.Span, WireJsonContext.Default.ExecutionProblem));
            var error = problem.Type switch
            {
                RefusedProblemType => $"the task function refused the snapshot: {problem.Detail}",
                FaultProblemType => $"the task function failed: {problem.Detail}",
                _ => problem.Detail ?? problem.Title,
            };
            return new TaskOutcome(false, [], problem.StartedAt, problem.FinishedAt, problem.ExitCode, error, problem.StderrTail,
                problem.Log is { } log && ArtifactUri.TryParse(log, out var sha) ? sha : null, WorkerName(problem.Worker), problem.Permanent == true,
                ReportedEnvironment(problem.Environment), problem.Exhausted == true);
        }

        if (contentType?.MediaType != A.BatchMediaType)
        {
            throw new FormatException($"A task function answers {A.BatchMediaType} or {ProblemMediaType}, not '{answer.ContentType}' (HTTP {answer.Status}).");
        }

        IReadOnlyList<CloudEvent> batch;
        try
        {
            batch = Formatter.DecodeBatchModeMessage(answer.Body, new System.Net.Mime.ContentType(answer.ContentType), ValueEvents.Extensions);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw new FormatException($"The answer is not a well-formed batch: {e.Message}", e);
        }

        return FromBatch(batch);
    }

    /// <summary>The HTTP body of an answer: the batch, or the problem of a failed execution.</summary>
    public static HttpContent ToHttpContent(TaskInvocation invocation, TaskOutcome outcome)
    {
        var answer = Answer(invocation, outcome);
        var content = new ReadOnlyMemoryContent(answer.Body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(answer.ContentType);
        return content;
    }

    /// <summary>Reads a task function's answer.</summary>
    /// <exception cref="FormatException">The answer is neither a well-formed batch nor a problem.</exception>
    public static async Task<TaskOutcome> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return Read(new ContractMessage(response.Content.Headers.ContentType?.ToString() ?? "", bytes, (int)response.StatusCode));
    }

    /// <summary>The outcome a successful answer's events describe.</summary>
    public static TaskOutcome FromBatch(IReadOnlyList<CloudEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var execution = events.LastOrDefault(e => e.Type == A.ExecutionEventType) ?? throw new FormatException($"The answer has no {A.ExecutionEventType} event.");
        var data = Parse(() => ((JsonElement)execution.Data!).Deserialize(WireJsonContext.Default.ExecutionData));
        var values = events.Where(e => e.Type == A.ValueEventType).Select(e =>
        {
            var value = ValueEvents.Read(e);
            return new ProducedValue(value.Output, value.Index, value.Sha256, value.Size, value.MediaType);
        }).ToList();
        if (values.Count != data.Values)
        {
            throw new FormatException($"The answer announces {data.Values} value(s) but carries {values.Count}.");
        }

        return new TaskOutcome(true, values, data.StartedAt, data.FinishedAt, data.ExitCode,
            LogSha256: data.Log is { } log && ArtifactUri.TryParse(log, out var sha) ? sha : null, Worker: WorkerName(data.Worker), Environment: ReportedEnvironment(data.Environment));
    }

    private static Dictionary<string, string>? Wire(IReadOnlyDictionary<string, string>? environment) =>
        environment is null ? null : new Dictionary<string, string>(environment, StringComparer.Ordinal);

    /// <summary>A reported environment kept as far as it is small and printable: at most 16 entries, names of 1 to 64 letters, digits and dots, values up to 256 characters without control characters.</summary>
    private static Dictionary<string, string>? ReportedEnvironment(Dictionary<string, string>? reported) =>
        reported?.Where(e => e.Key is { Length: > 0 and <= 64 } key && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '.')
                && e.Value is { Length: <= 256 } value && !value.Any(char.IsControl))
            .Take(16).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal) is { Count: > 0 } kept ? kept : null;

    /// <summary>A reported worker name kept when it is a host name (a pod's: lower-case letters, digits, dots and dashes, at most 253); anything else is dropped and the router names the worker.</summary>
    private static string? WorkerName(string? name) =>
        name is { Length: > 0 and <= 253 } && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '.') ? name : null;

    private static ContractMessage Problem(ExecutionProblem problem) =>
        new(ProblemMediaType, JsonSerializer.SerializeToUtf8Bytes(problem, WireJsonContext.Default.ExecutionProblem), problem.Status);

    private static T Parse<T>(Func<T?> parse)
    {
        try
        {
            return parse() ?? throw new FormatException("The answer is empty.");
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidCastException)
        {
            throw new FormatException($"The answer is not well-formed: {e.Message}", e);
        }
    }
}
