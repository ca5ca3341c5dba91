namespace Koalja.Tasks.Sandboxing;

/// <summary>How a task runtime isolates the commands it runs, as the server tells it at start.</summary>
/// <param name="Sandboxed">Commands run in a sandbox per worker slot.</param>
/// <param name="Description">Sandboxed: what the sandbox is and does; else what runs them and why nothing isolates them.</param>
public sealed record CommandIsolation(bool Sandboxed, string Description)
{
    /// <summary>Where <see cref="Sandboxed"/> is false although a sandbox was wanted (<see cref="SandboxMode.Auto"/>): the warning to show.</summary>
    public bool IsWarning { get; init; }

    internal static CommandIsolation For(TaskRuntimeOptions options, string codeRoot, out SandboxPlan? plan)
    {
        plan = null;
        if (options.Sandbox == SandboxMode.Off)
        {
            return new CommandIsolation(false, "commands run without a sandbox (turned off: on Kubernetes the task's container isolates them)");
        }

        (plan, var why) = SandboxPlan.Find(options, codeRoot);
        if (plan is not null)
        {
            return new CommandIsolation(true, $"{why}, network {(options.SandboxNetwork ? "on" : "off")}; the data directory hidden, inputs and code read-only, no other process visible");
        }

        return options.Sandbox == SandboxMode.Required
            ? throw new SandboxException($"A sandbox is required for commands, but {why}")
            : new CommandIsolation(false, $"commands run WITHOUT a sandbox, with this server's access to files and processes: {why}") { IsWarning = true };
    }
}
