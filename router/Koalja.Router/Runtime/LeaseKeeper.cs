using Koalja.Router.Registry;
using Microsoft.Extensions.Logging;

namespace Koalja.Router.Runtime;

/// <summary>
/// Holds this process's pipeline leases in the registry: takes them at start, renews them every third of their
/// time to live (a timer posts <see cref="RenewLeasesCommand"/> to the loop), gives up a pipeline whose lease another
/// process took, and gives the leases back at stop.
/// </summary>
internal sealed partial class LeaseKeeper(RouterState state)
{
    private readonly LeaseHolder _holder = LeaseHolder.ThisProcess();
    private readonly ILogger _log = state.Log;
    private ITimer? _renewal;

    /// <summary>Takes the lease of every pipeline, in the writer's open transaction.</summary>
    /// <exception cref="PipelineLeasedException">Another live process holds one of them.</exception>
    public void Acquire(IEnumerable<string> pipelines, DateTimeOffset now)
    {
        foreach (var pipeline in pipelines)
        {
            PipelineLeases.Acquire(state.Writer, pipeline, _holder, now, state.Options.LeaseTtl);
        }
    }

    public void StartRenewing(Action<RouterCommand> post)
    {
        var every = state.Options.LeaseTtl / 3;
        _renewal = state.Time.CreateTimer(_ => post(new RenewLeasesCommand()), null, every, every);
    }

    /// <summary>
    /// Extends this process's leases. A pipeline whose lease another process took (this one was paused past the
    /// lease) is given up: its commands are refused and its dispatchers stop, so two processes never route it.
    /// </summary>
    public void Renew(AfterCommit after)
    {
        var writer = state.Writer;
        if (writer.RenewLeases(_holder.Id, state.Time.GetUtcNow() + state.Options.LeaseTtl) >= state.Pipelines.Count)
        {
            return;
        }

        var held = writer.LeasedPipelines(_holder.Id);
        foreach (var runtime in state.Pipelines.Values.Where(p => !p.Lost && !held.Contains(p.Name)))
        {
            runtime.Lost = true;
            LogLeaseLost(runtime.Name);
            foreach (var dispatcher in runtime.Dispatchers.Values)
            {
                after.Then(() => _ = dispatcher.StopAsync());
            }
        }
    }

    public async Task StopRenewingAsync()
    {
        if (_renewal is not null)
        {
            await _renewal.DisposeAsync();
        }
    }

    /// <summary>Gives the leases back (they would expire by themselves).</summary>
    public void Release()
    {
        var writer = state.Writer;
        try
        {
            writer.Begin();
            writer.ReleaseLeases(_holder.Id);
            writer.Commit();
        }
        catch (System.Data.Common.DbException e)
        {
            LogLeaseRelease(e);
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Pipeline {Pipeline}: another process took its lease (this one was paused longer than the lease); this process stops routing it")]
    private partial void LogLeaseLost(string pipeline);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not give back the pipeline leases; they expire by themselves")]
    private partial void LogLeaseRelease(Exception error);
}
