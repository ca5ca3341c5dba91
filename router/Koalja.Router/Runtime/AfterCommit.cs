using Koalja.Router.Registry;

namespace Koalja.Router.Runtime;

/// <summary>
/// What a batch of commands does once its transaction has committed: complete the callers, hand ready snapshots to
/// dispatchers, announce the values recorded. Nothing here runs if the transaction fails.
/// </summary>
internal sealed class AfterCommit
{
    private readonly List<Action> _actions = [];

    public List<ValueRecord> Recorded { get; } = [];

    public void Then(Action action) => _actions.Add(action);

    /// <summary>Runs every action and announces every value; returns what threw, so that one failure stops none of the others.</summary>
    public List<Exception> Run(Action<ValueRecord>? recorded)
    {
        var failures = new List<Exception>();
        foreach (var action in _actions)
        {
            Run(action, failures);
        }

        if (Recorded.Count == 0 || recorded is null)
        {
            return failures;
        }

        var subscribers = recorded.GetInvocationList().Cast<Action<ValueRecord>>().ToList(); // once per batch, not per value
        foreach (var value in Recorded)
        {
            foreach (var subscriber in subscribers)
            {
                Run(() => subscriber(value), failures);
            }
        }

        return failures;
    }

    private static void Run(Action action, List<Exception> failures)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            failures.Add(e);
        }
    }
}
