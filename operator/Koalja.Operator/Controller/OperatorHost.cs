using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using Microsoft.Extensions.Logging;

namespace Koalja.Operator.Controller;

/// <summary>
/// Runs the operator as a replicated Deployment does: every replica competes for a Lease in the operator's
/// namespace; the holder runs the controller, renewing the Lease; when it cannot renew in time it stops its controller
/// at once (another replica may already be leading) and competes again. Only one controller ever writes.
/// </summary>
public static class OperatorHost
{
    /// <summary>Runs until <paramref name="ct"/> is cancelled. <paramref name="onLeading"/> sees each term's controller (for tests and status).</summary>
    public static async Task RunAsync(IKubernetes kube, OperatorOptions options, ILoggerFactory loggers, CancellationToken ct,
        Action<PipelineController>? onLeading = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        var logger = loggers.CreateLogger("Koalja.Operator");
        var config = new LeaderElectionConfig(new LeaseLock(kube, options.Namespace, options.LeaseName, options.Identity))
        {
            LeaseDuration = options.LeaseDuration,
            RenewDeadline = options.RenewDeadline,
            RetryPeriod = options.RetryPeriod,
        };
        using var elector = new LeaderElector(config);
        CancellationTokenSource? term = null;
        Task? running = null;
        elector.OnStartedLeading += () =>
        {
            OperatorLog.Leading(logger, options.Identity, options.Namespace, options.LeaseName);
            term = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var controller = new PipelineController(kube, options, loggers.CreateLogger("Koalja.Operator.Controller"), time);
            onLeading?.Invoke(controller);
            var token = term.Token;
            running = Task.Run(() => controller.RunAsync(token), CancellationToken.None);
        };
        elector.OnStoppedLeading += () =>
        {
            if (!ct.IsCancellationRequested)
            {
                OperatorLog.LostLead(logger, options.Identity);
            }

            term?.Cancel();
        };
        elector.OnNewLeader += leader => OperatorLog.NewLeader(logger, leader);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await elector.RunUntilLeadershipLostAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }

            term?.Cancel();
            if (running is not null)
            {
                await running.ConfigureAwait(false);
                running = null;
            }

            term?.Dispose();
            term = null;
        }
    }
}
