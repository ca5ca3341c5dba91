using System.Threading.Channels;
using Koalja.Router.Registry;
using Microsoft.Extensions.Logging;

namespace Koalja.Router.Runtime;

/// <summary>
/// The registry's single writer: takes commands in the order they were posted, applies a batch of them in one
/// transaction, and runs their after-commit actions once it has committed. A failed transaction refuses its whole
/// batch and reloads the in-memory state it may have changed; a failing after-commit action is logged and never
/// ends the loop (every later command would wait forever).
/// </summary>
internal sealed partial class CommandLoop
{
    private readonly Channel<RouterCommand> _commands = Channel.CreateUnbounded<RouterCommand>(new UnboundedChannelOptions { SingleReader = true });
    private readonly RouterState _state;
    private readonly Action<RouterCommand, AfterCommit> _apply;
    private readonly Action _reload;
    private readonly Func<Action<ValueRecord>?> _subscribers;
    private readonly Action _committed;
    private readonly ILogger _log;
    private Task? _loop;

    /// <param name="apply">Applies one command inside the batch's transaction.</param>
    /// <param name="reload">Rebuilds the in-memory state from the registry after a failed transaction.</param>
    /// <param name="subscribers">Who hears of every committed value.</param>
    public CommandLoop(RouterState state, Action<RouterCommand, AfterCommit> apply, Action reload, Func<Action<ValueRecord>?> subscribers, Action committed)
    {
        _state = state;
        _apply = apply;
        _reload = reload;
        _subscribers = subscribers;
        _committed = committed;
        _log = state.Log;
    }

    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>Queues a command; it completes (or fails) once its batch has committed (or not). Refused once the loop is stopping.</summary>
    public void Post(RouterCommand command)
    {
        if (!_commands.Writer.TryWrite(command))
        {
            command.Fail(new InvalidOperationException("Koalja is shutting down."));
        }
    }

    /// <summary>Stops taking commands and waits for those taken to be applied.</summary>
    public async Task StopAsync()
    {
        _commands.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop;
        }
    }

    private async Task RunAsync()
    {
        var batch = new List<RouterCommand>();
        var writer = _state.Writer;
        while (await _commands.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _state.Options.MaxBatch && _commands.Reader.TryRead(out var command))
            {
                batch.Add(command);
            }

            var after = new AfterCommit();
            try
            {
                writer.Begin();
                foreach (var command in batch)
                {
                    _apply(command, after);
                }

                writer.Commit();
                _committed();
            }
            catch (Exception e)
            {
                writer.Rollback();
                LogBatchFailed(e, batch.Count);
                foreach (var command in batch)
                {
                    command.Fail(e);
                }

                _reload();
                continue;
            }

            foreach (var failure in after.Run(_subscribers()))
            {
                LogEffectFailed(failure);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "An after-commit effect or a value subscriber failed; the router goes on")]
    private partial void LogEffectFailed(Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "A registry transaction of {Count} command(s) failed; they were refused and the state was reloaded")]
    private partial void LogBatchFailed(Exception error, int count);
}
