using Koalja.Core.Scaling;
using Koalja.Router.Runtime;
using Koalja.Scaler;

namespace Koalja.Router.Scaling;

/// <summary>The scaler's view of the router: each task's dispatcher, which knows its ready snapshots and executions in flight.</summary>
internal sealed class RouterTaskLoads(PipelineRouter router) : ITaskLoadSource
{
    public TaskLookup Find(ScalerTarget target)
    {
        if (!router.Pipelines.TryGetValue(target.Pipeline, out var runtime))
        {
            var routed = string.Join(", ", router.Pipelines.Keys.Order(StringComparer.Ordinal));
            return TaskLookup.Failed(TaskLookupProblem.NotFound, $"this router does not run pipeline '{target.Pipeline}' (it runs {(routed.Length > 0 ? routed : "none")})");
        }

        if (target.Namespace.Length > 0 && !string.Equals(target.Namespace, runtime.Namespace, StringComparison.Ordinal))
        {
            return TaskLookup.Failed(TaskLookupProblem.NotFound,
                $"this router runs pipeline '{target.Pipeline}' of namespace '{runtime.Namespace}', not of namespace '{target.Namespace}'");
        }

        if (runtime.Spec.TaskByName(target.Task) is null)
        {
            var hint = Core.Diagnostics.Suggestions.DidYouMean(target.Task, runtime.Spec.Tasks.Select(t => t.Name)) is { } h ? $" ({h})" : "";
            return TaskLookup.Failed(TaskLookupProblem.NotFound, $"pipeline '{target.Pipeline}' has no task '{target.Task}'{hint}");
        }

        return runtime.Dispatchers.TryGetValue(target.Task, out var dispatcher)
            ? TaskLookup.Found(new DispatcherTask(dispatcher))
            : TaskLookup.Failed(TaskLookupProblem.NotScalable, $"task '{target.Task}' of pipeline '{target.Pipeline}' has no inputs, so it runs no snapshots and has nothing to scale");
    }

    private sealed class DispatcherTask(TaskDispatcher dispatcher) : IScalableTask
    {
        public bool OrderSensitive => dispatcher.OrderSensitive;

        public TaskLoad Load => dispatcher.ScalingLoad;

        public IDisposable Watch(Action changed)
        {
            dispatcher.LoadChanged += changed;
            return new Unwatch(dispatcher, changed);
        }

        private sealed class Unwatch(TaskDispatcher dispatcher, Action changed) : IDisposable
        {
            private int _done;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _done, 1) == 0)
                {
                    dispatcher.LoadChanged -= changed;
                }
            }
        }
    }
}
