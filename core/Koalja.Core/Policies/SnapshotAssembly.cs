using Koalja.Core.Spec;

namespace Koalja.Core.Policies;

/// <summary>
/// The assembler as a pure function: <c>(state, event) → (new state, ready snapshots, consumed values)</c>.
/// Convenient where state lives elsewhere (tests, the registry); <see cref="SnapshotAssembler"/> is the
/// fast form that keeps its state between events.
/// </summary>
public static class SnapshotAssembly
{
    public static AssemblerState Initial(TaskSpec task, string codeVersion)
    {
        using var assembler = new SnapshotAssembler(task, codeVersion);
        return assembler.ExportState();
    }

    public static (AssemblerState State, IReadOnlyList<Snapshot> Ready, IReadOnlyList<ArrivedValue> Consumed) Apply(
        TaskSpec task, string codeVersion, AssemblerState state, AssemblerEvent e)
    {
        using var assembler = SnapshotAssembler.FromState(task, codeVersion, state);
        var result = assembler.Apply(e);
        return (assembler.ExportState(), result.Ready.ToArray(), result.Consumed.ToArray());
    }
}
