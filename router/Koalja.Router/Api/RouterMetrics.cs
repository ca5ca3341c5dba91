using Koalja.Router.Registry;
using Koalja.Router.Runtime;
using Microsoft.AspNetCore.Http;
using Prometheus;

namespace Koalja.Router.Api;

/// <summary>
/// The router's figures in Prometheus' text format (<c>GET /metrics</c>), one registry per router (so two servers in one
/// process never mix their numbers): values recorded and executions by outcome (counters, since the start), execution
/// durations (a histogram), and, read when scraped, the snapshots ready and in flight, the values waiting in each link
/// and the dead letters of each task.
/// </summary>
internal sealed class RouterMetrics : IDisposable
{
    private static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
    private readonly PipelineRouter _router;
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly Counter _values;
    private readonly Counter _executions;
    private readonly Histogram _durations;
    private readonly Gauge _ready;
    private readonly Gauge _inFlight;
    private readonly Gauge _queued;
    private readonly Gauge _dead;

    public RouterMetrics(PipelineRouter router)
    {
        ArgumentNullException.ThrowIfNull(router);
        _router = router;
        var metrics = Metrics.WithCustomRegistry(_registry);
        _values = metrics.CreateCounter("koalja_values_recorded_total", "Values recorded (dropped, received as CloudEvents or produced)", "pipeline", "task");
        _executions = metrics.CreateCounter("koalja_executions_total", "Executions that ended, by outcome (succeeded, failed)", "pipeline", "task", "outcome");
        _durations = metrics.CreateHistogram("koalja_execution_duration_seconds", "How long executions ran", new HistogramConfiguration
        {
            LabelNames = ["pipeline", "task"],
            Buckets = DurationBuckets,
        });
        _ready = metrics.CreateGauge("koalja_snapshots_ready", "Snapshots ready to run and not running", "pipeline", "task");
        _inFlight = metrics.CreateGauge("koalja_snapshots_in_flight", "Snapshots running now", "pipeline", "task");
        _queued = metrics.CreateGauge("koalja_link_queued_values", "Values waiting in a link for their task", "pipeline", "link");
        _dead = metrics.CreateGauge("koalja_dead_letters", "Snapshots given up on and not yet retried or discarded", "pipeline", "task");
        _registry.AddBeforeCollectCallback(Sample);
        router.ValueRecorded += OnValue;
        router.ExecutionFinished += OnExecution;
    }

    /// <summary>Writes the metrics as Prometheus text.</summary>
    public async Task WriteAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await _registry.CollectAndExportAsTextAsync(response.Body, cancellationToken);
    }

    public void Dispose()
    {
        _router.ValueRecorded -= OnValue;
        _router.ExecutionFinished -= OnExecution;
    }

    private void OnValue(ValueRecord value)
    {
        if (!value.Shadow)
        {
            _values.WithLabels(value.Pipeline, value.Task).Inc();
        }
    }

    private void OnExecution(ExecutionReport e)
    {
        _executions.WithLabels(e.Pipeline, e.Task, e.Succeeded ? "succeeded" : "failed").Inc();
        _durations.WithLabels(e.Pipeline, e.Task).Observe(Math.Max(0, e.Duration.TotalSeconds));
    }

    private void Sample()
    {
        using var connection = _router.Registry.Open();
        var reader = new RegistryReader(connection);
        foreach (var (name, runtime) in _router.Pipelines)
        {
            var counts = reader.TaskCounts(name);
            foreach (var task in runtime.Spec.Tasks.Where(t => t.SnapshotInputs.Any()))
            {
                if (_router.Scaling(name, task.Name) is { } scaling)
                {
                    _ready.WithLabels(name, task.Name).Set(scaling.Load.Ready);
                    _inFlight.WithLabels(name, task.Name).Set(scaling.Load.InFlight);
                }

                _dead.WithLabels(name, task.Name).Set(counts.GetValueOrDefault(task.Name)?.DeadLettered ?? 0);
            }

            var links = reader.LinkCounts(name);
            foreach (var link in runtime.Spec.Links)
            {
                _queued.WithLabels(name, link.Name).Set(links.GetValueOrDefault(link.Name).Queued);
            }
        }
    }
}
